"""Clone a template employee's plans for another employee: every row the engine and the plan
services wrote, with new ids, their people and units, and the audit chain re-hashed and
re-sealed for its new instance (so `stepwise audit verify` holds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select

from app.engine.audit import (
    _event_message,
    _head_message,
    current_keyring,
    event_hash,
)
from app.engine.models import AuditEvent
from app.plans.content import content_hash

# The tables a plan's rows live in, parents first, each with the column that ties it to its
# parent (None: the instance itself, chosen by subject).
CLONED: list[tuple[str, str | None]] = [
    ("workflow_instance", None),
    ("improvement_plan", "instance_id"),
    ("audit_event", "instance_id"), ("audit_head", "instance_id"), ("task", "instance_id"),
    ("reminder_timer", "instance_id"),
    ("plan_gap", "plan_id"), ("plan_cause", "gap_id"), ("plan_method", "plan_id"),
    ("plan_step", "plan_id"), ("plan_checkpoint", "plan_id"), ("plan_evidence", "checkpoint_id"),
    # a version's content names the steps' owners: re-hashed, and the signatures follow it
    ("plan_version", "plan_id"), ("sign_off", "instance_id"),
    ("plan_view", "plan_id"), ("plan_review", "plan_id"),
    ("plan_review_indicator", "review_id"), ("plan_review_measure", "review_id"),
    ("plan_review_target", "review_id"), ("plan_review_training", "review_id"),
    ("plan_review_problem", "review_id"),
]
REF_TABLES = {"checkpoint": "plan_checkpoint", "step": "plan_step", "gap": "plan_gap"}
WORKFLOW = "improvement_plan"


@dataclass
class Template:
    """One template employee's rows, per table, and the people and units they name."""

    person_id: int
    supervisor_id: int
    hr_id: int
    unit_id: int
    branch_id: int
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def plans(self) -> int:
        """How many plans (instances) one clone adds."""
        return len(self.rows.get("workflow_instance", []))


def tables(metadata_tables: dict[str, Table]) -> list[Table]:
    """The cloned tables this installation has, parents first."""
    return [metadata_tables[name] for name, _ in CLONED if name in metadata_tables]


def capture(conn: Connection, metadata_tables: dict[str, Table], template: Template) -> None:
    """Read every row of the template employee's plans (ordered, so chains stay in order)."""
    kept: dict[str, set[int]] = {}
    for name, parent_column in CLONED:
        table = metadata_tables.get(name)
        if table is None:
            continue
        if parent_column is None:
            query = select(table).where(table.c.subject_id == template.person_id,
                                        table.c.workflow == WORKFLOW)
        else:
            parent = next(iter(table.c[parent_column].foreign_keys)).column.table.name
            query = select(table).where(table.c[parent_column].in_(kept.get(parent, set())))
        order = [table.c.instance_id, table.c.seq] if name == "audit_event" else (
            [table.c.id] if "id" in table.c else [table.c.instance_id])
        rows = [dict(r._mapping) for r in conn.execute(query.order_by(*order))]
        template.rows[name] = rows
        if "id" in table.c:
            kept[name] = {r["id"] for r in rows}


class Cloner:
    """Writes clones of templates with fresh ids, counting on from each table's first free id."""

    def __init__(self, metadata_tables: dict[str, Table], first_ids: dict[str, int]) -> None:
        self.tables = tables(metadata_tables)
        self.next_id = dict(first_ids)
        self.keyring = current_keyring()
        # per table: (column, referenced table) of every foreign key
        self.foreign = {t.name: [(c.name, next(iter(c.foreign_keys)).column.table.name)
                                 for c in t.columns if c.foreign_keys] for t in self.tables}

    def clone(self, template: Template, staff: Any, out: dict[str, list[dict[str, Any]]]) -> None:
        """Append to `out` the template's rows remapped onto one employee (`staff`)."""
        ids: dict[str, dict[int, int]] = {}
        people = {template.person_id: staff.person_id,
                  template.supervisor_id: staff.supervisor_id, template.hr_id: staff.hr_id}
        units = {template.unit_id: staff.unit_id, template.branch_id: staff.branch_id}
        for table in self.tables:  # new ids first: rows may point at rows of their own table
            if "id" in table.c:
                first = self.next_id[table.name]
                rows = template.rows[table.name]
                ids[table.name] = {r["id"]: first + i for i, r in enumerate(rows)}
                self.next_id[table.name] = first + len(rows)
        heads: dict[int, tuple[int, str]] = {}
        hashes: dict[str, str] = {}  # a template version's content hash -> the clone's
        for table in self.tables:
            name, target = table.name, out.setdefault(table.name, [])
            foreign = self.foreign[name]
            for old in template.rows[name]:
                row = dict(old)
                if "id" in row:
                    row["id"] = ids[name][old["id"]]
                for column, referenced in foreign:
                    value = row[column]
                    if value is None:
                        continue
                    if referenced == "person":
                        row[column] = people.get(value, value)
                    elif referenced == "org_unit":
                        row[column] = units.get(value, value)
                    elif referenced in ids:
                        row[column] = ids[referenced].get(value, value)
                self._fix_inner_references(name, row, ids, heads)
                if name == "plan_version":
                    row["content"] = _with_owners(row["content"], people)
                    hashes[row["content_hash"]] = row["content_hash"] = content_hash(
                        row["content"])
                elif name == "sign_off" and row["content_hash"]:
                    row["content_hash"] = hashes.get(row["content_hash"], row["content_hash"])
                target.append(row)

    def _fix_inner_references(self, name: str, row: dict[str, Any],
                              ids: dict[str, dict[int, int]],
                              heads: dict[int, tuple[int, str]]) -> None:
        """Ids kept inside texts and documents, and the audit chain's hashes and seals."""
        if name == "workflow_instance" and "plan_id" in row["context"]:
            plan_id = row["context"]["plan_id"]
            row["context"] = {**row["context"],
                              "plan_id": ids["improvement_plan"].get(plan_id, plan_id)}
        elif name == "task" and ":" in row["ref"]:
            kind, _, number = row["ref"].partition(":")
            if kind in REF_TABLES and number.isdigit():
                row["ref"] = f"{kind}:{ids[REF_TABLES[kind]].get(int(number), int(number))}"
        elif name == "reminder_timer" and row["key"].startswith("task:"):
            _, old_task, rest = row["key"].split(":", 2)
            row["key"] = f"task:{ids['task'].get(int(old_task), old_task)}:{rest}"
        elif name == "audit_event":
            previous = heads.get(row["instance_id"])
            row["prev_hash"] = previous[1] if previous else ""
            row["hash"] = event_hash(AuditEvent.model_construct(**row))
            key_id = self.keyring.current
            row["key_id"] = key_id
            row["seal"] = self.keyring.seal(key_id, _event_message(key_id, row["hash"])) or ""
            heads[row["instance_id"]] = (row["seq"], row["hash"])
        elif name == "audit_head":
            seq, hash_ = heads[row["instance_id"]]
            row["seq"], row["hash"] = seq, hash_
            row["seal"] = self.keyring.seal(self.keyring.current,
                                            _head_message(row["instance_id"], seq, hash_)) or ""


def _with_owners(document: dict[str, Any], people: dict[int, int]) -> dict[str, Any]:
    """A frozen plan version with its steps' owners mapped onto the clone's people."""
    steps = [{**step, "owner_id": people.get(step.get("owner_id"), step.get("owner_id"))}
             for step in document.get("steps", [])]
    return {**document, "steps": steps}
