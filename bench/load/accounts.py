"""Who the load test's users sign in as, and the work waiting for them, read from the
generated bank: employees with a checkpoint to record or a plan to sign, their supervisors,
HR officers, and emailed action links minted as the reminder mail would carry them.

Run as `python -m bench.load.accounts OUT.json` with the server's environment (same database,
same secret key and audit keys); it writes the manifest the locustfile reads.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from app import clock
from app.config import get_settings
from app.db import make_engine
from app.engine import runtime
from app.engine.models import Task, WorkflowInstance
from app.engine.registry import Registry
from app.models import load_all_models
from app.notifications.action_links import final_outcome, hash_token, link_actions
from app.notifications.models import ActionLink
from app.org.models import OrgUnit, Person, RoleAssignment
from app.plans.models import ImprovementPlan

TEAMS = 12  # sub-branches whose heads sign in as the supervisors
LINKS = 300  # emailed links to follow (supervisors' sign-offs and reviews elsewhere)


def manifest(session: Session, registry: Registry) -> dict[str, Any]:
    """The accounts by role and the work items each may take (each item used once)."""
    heads = list(session.exec(
        select(Person).join(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .where(OrgUnit.kind == "sub_branch", Person.post == "支行长").order_by(Person.id)))
    step = max(len(heads) // TEAMS, 1)
    team_heads = heads[::step][:TEAMS]
    team_ids = {p.id for p in team_heads}
    supervisors = {p.id: {"no": p.employee_no, "sign": [], "plans": []} for p in team_heads}
    employees: dict[int, dict[str, Any]] = {}
    supervisor_signs: list[tuple[int, int]] = []
    rows = session.exec(
        select(Task, ImprovementPlan, Person)
        .join(ImprovementPlan, ImprovementPlan.instance_id == Task.instance_id)
        .join(Person, Person.id == ImprovementPlan.employee_id)
        .where(Task.status == "open", Person.supervisor_id.in_(team_ids)))
    for task, plan, employee in rows:
        person = employees.setdefault(employee.id, {
            "no": employee.employee_no, "supervisor": supervisors[employee.supervisor_id]["no"],
            "plans": [], "record": [], "sign": []})
        if plan.id not in person["plans"]:
            person["plans"].append(plan.id)
            supervisors[employee.supervisor_id]["plans"].append(plan.id)
        if task.kind == "checkpoint_record" and task.assignee_id == employee.id:
            person["record"].append([plan.id, int(task.ref.split(":")[1])])
        elif task.kind == "sign_off" and task.assignee_id == employee.id:
            person["sign"].append(plan.id)
        elif task.kind == "sign_off" and task.assignee_id == employee.supervisor_id:
            supervisor_signs.append((employee.supervisor_id, plan.id))
    # a supervisor signs after the employee (both at once would be two writers of one plan:
    # the second is told the plan changed, a conflict the test is not about)
    employee_signs = {plan for person in employees.values() for plan in person["sign"]}
    for supervisor_id, plan_id in supervisor_signs:
        if plan_id not in employee_signs:
            supervisors[supervisor_id]["sign"].append(plan_id)
    hr = [p.employee_no for p in session.exec(
        select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.kind == "role", RoleAssignment.name == "hr")
        .order_by(Person.id)).all()]
    return {"employees": sorted(employees.values(), key=lambda e: -len(e["record"])),
            "supervisors": list(supervisors.values()),
            "hr": hr[:1] + hr[1::3][:8],  # head office HR, then one officer per branch
            "links": _links(session, registry, exclude=team_ids)}


def _links(session: Session, registry: Registry, exclude: set[int]) -> list[dict[str, str]]:
    """Links of open supervisor tasks outside the signed-in teams, as a reminder mail has
    them (stored hashed, valid for days), with the person each was sent to."""
    links = []
    tasks = session.exec(
        select(Task, WorkflowInstance, Person)
        .join(WorkflowInstance, WorkflowInstance.id == Task.instance_id)
        .join(Person, Person.id == Task.assignee_id)
        .where(Task.status == "open", Task.actor_expr == "subject.supervisor",
               WorkflowInstance.state.in_(["plan_proposed", "under_review"]),
               Person.id.not_in(exclude))
        .order_by(Task.id).limit(LINKS * 3))
    for task, instance, person in tasks:
        spec = registry.compiled(session, instance.definition_id).spec
        for action in link_actions(session, instance, task, person, registry)[:1]:
            token = secrets.token_urlsafe(32)
            session.add(ActionLink(
                token_hash=hash_token(token), person_id=person.id, task_id=task.id,
                instance_id=instance.id, trigger=action.transition.trigger, state=task.state,
                on_behalf_of_id=action.on_behalf_of_id,
                requires_login=final_outcome(spec, action.transition),
                expires_at=clock.now() + timedelta(days=7)))
            links.append({"token": token, "no": person.employee_no,
                          "trigger": action.transition.trigger})
        if len(links) >= LINKS:
            break
    session.commit()
    return links


def main(out: Path) -> None:
    """Write the manifest for the database the settings name."""
    settings = get_settings()
    load_all_models()
    registry = Registry(settings.workflows_dir)
    registry.load()
    runtime.set_registry(registry)
    engine = make_engine(settings.database_url)
    with Session(engine, expire_on_commit=False) as session:
        found = manifest(session, registry)
    engine.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    counts = defaultdict(int)
    for person in found["employees"]:
        counts["checkpoints to record"] += len(person["record"])
        counts["employee signatures"] += len(person["sign"])
    for person in found["supervisors"]:
        counts["supervisor signatures"] += len(person["sign"])
    print(f"{len(found['employees'])} employees, {len(found['supervisors'])} supervisors, "
          f"{len(found['hr'])} HR, {len(found['links'])} links; "
          + ", ".join(f"{n} {k}" for k, n in counts.items()))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
