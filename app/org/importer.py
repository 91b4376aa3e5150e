"""CSV import of the org tree and of people: every row checked first, then all or nothing.

Rows are upserted by unit code / employee number, so importing the same file twice changes
nothing. Rows may come in any order (a parent or supervisor may appear further down).
A column left out of the file leaves that attribute of existing rows alone.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from sqlmodel import Session, SQLModel, select

from app.auth.passwords import hash_password, verify_password
from app.engine.definitions import Vocabulary, load_vocabulary
from app.errors import ImportFailed
from app.i18n import LOCALES
from app.org import service as org
from app.org.models import OrgUnit, Person, RoleAssignment, UnitKind
from app.text import has_control_characters

Source = Path | str | IO[str] | IO[bytes]
Progress = Callable[[int, int], None]

ORG_REQUIRED = ("code", "name", "kind", "parent_code")
ORG_OPTIONAL = ("name_en",)
PEOPLE_REQUIRED = ("employee_no", "name", "org_unit_code")
PEOPLE_OPTIONAL = (
    "name_en", "email", "locale", "post", "grade", "titles", "supervisor_no", "roles",
    "password",
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLE_RE = re.compile(r"^(role|committee)\s*:\s*([A-Za-z0-9_]+)\s*@\s*(\S+)$")
ROLE_SEPARATORS = re.compile(r"[;；\n]")
KINDS = tuple(kind.value for kind in UnitKind)
OVERFLOW = "\0overflow"  # marks a row with more values than the header has columns

@dataclass
class CsvTable:
    """A CSV file read into rows of stripped values keyed by lower-case column name."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line number in the file, values)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, str]]) -> CsvTable:
        """A table built in code (the demo), numbered as if row 1 were a header."""
        rows = [(i, {k: str(v).strip() for k, v in r.items()}) for i, r in enumerate(records, 2)]
        columns = list(dict.fromkeys(k for _, r in rows for k in r))
        return cls(columns, rows)


@dataclass
class ImportReport:
    """What an import did."""

    what: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(
            "The file is not UTF-8 (byte {offset}). In Excel choose 'CSV UTF-8' when saving.",
            rejected=[],
            offset=exc.start,
        ) from exc


def _read_text(source: Source) -> str:
    if isinstance(source, str | Path):
        try:
            return _decode(Path(source).read_bytes())
        except OSError as exc:
            raise ImportFailed(
                "Cannot read {path}: {why}", rejected=[], path=str(source), why=exc.strerror
            ) from exc
    data = source.read()
    return _decode(data) if isinstance(data, bytes) else data.removeprefix("\ufeff")


def read_csv(source: Source) -> CsvTable:
    """Read a UTF-8 CSV file (with or without the BOM Excel writes) into a table."""
    reader = csv.reader(io.StringIO(_read_text(source), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed("The file is empty: it needs a header row.", rejected=[]) from None
    except csv.Error as exc:
        raise ImportFailed("Line 1 is not valid CSV: {why}", rejected=[], why=str(exc)) from exc
    columns = [name.strip().lower() for name in header]
    rows: list[tuple[int, dict[str, str]]] = []
    previous_end = reader.line_num
    try:
        for cells in reader:
            line = previous_end + 1
            previous_end = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if any(has_control_characters(cell) for cell in cells):
                raise ImportFailed(
                    "Line {line} holds a control character (such as NUL), which cannot be "
                    "stored.", rejected=[(line, "a control character (such as NUL)")], line=line)
            values = {col: (cells[i].strip() if i < len(cells) else "")
                      for i, col in enumerate(columns)}
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
                values[OVERFLOW] = "1"
            rows.append((line, values))
    except csv.Error as exc:
        raise ImportFailed(
            "Line {line} is not valid CSV: {why}", rejected=[(reader.line_num, str(exc))],
            line=reader.line_num, why=str(exc),
        ) from exc
    return CsvTable(columns, rows)


def _check_header(table: CsvTable, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    problems = []
    missing = [c for c in required if c not in table.columns]
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    unknown = [c for c in table.columns if c not in required + optional]
    if unknown:
        problems.append(f"unknown column(s): {', '.join(repr(c) for c in unknown)}")
    doubled = sorted({c for c in table.columns if table.columns.count(c) > 1})
    if doubled:
        problems.append(f"repeated column(s): {', '.join(doubled)}")
    if problems:
        raise ImportFailed(
            "The header row is wrong ({problems}). Expected columns: {expected}.",
            rejected=[(1, "; ".join(problems))],
            problems="; ".join(problems),
            expected=", ".join(required + optional),
        )


def _max_length(model: type[SQLModel], column: str) -> int | None:
    return getattr(model.__table__.c[column].type, "length", None)  # type: ignore[attr-defined]


def _field_problems(
    values: dict[str, str], model: type[SQLModel], checked: tuple[str, ...],
    required: tuple[str, ...],
) -> list[str]:
    """Required values present and no value longer than its database column."""
    if OVERFLOW in values:
        return ["more values than the header has columns (quote values that contain commas)"]
    problems = [f"missing {name}" for name in required if not values.get(name)]
    for name in checked:
        limit = _max_length(model, name)
        value = values.get(name) or ""
        if limit and len(value) > limit:
            problems.append(f"{name} is longer than {limit} characters")
    return problems


def _fail(what: str, total: int, rejected: list[tuple[int, str]]) -> ImportFailed:
    rejected.sort(key=lambda item: item[0])
    return ImportFailed(
        "{count} of {total} {what} rows were rejected; nothing was imported.",
        rejected=rejected,
        count=len({line for line, _ in rejected}),
        total=total,
        what=what,
    )


def _loop_through(start: str, parent_of: Mapping[str, str | None]) -> list[str] | None:
    """The chain from `start` when following parents leads back into itself, else None."""
    chain = [start]
    current = parent_of.get(start)
    while current is not None:
        if current in chain:
            return chain[chain.index(current):] + [current]
        chain.append(current)
        current = parent_of.get(current)
    return None


def _depth(code: str, parent_of: Mapping[str, str | None]) -> int:
    depth = 0
    current = parent_of.get(code)
    while current is not None:
        depth += 1
        current = parent_of.get(current)
    return depth


# --- org units -------------------------------------------------------------------------------


def import_org(session: Session, source: Source, progress: Progress | None = None) -> ImportReport:
    """Create or update org units from org.csv (code, name, name_en, kind, parent_code)."""
    return apply_org(session, read_csv(source), progress)


def apply_org(session: Session, table: CsvTable, progress: Progress | None = None) -> ImportReport:
    """Check every org row, then upsert them parents first; ImportFailed lists every bad row."""
    _check_header(table, ORG_REQUIRED, ORG_OPTIONAL)
    units = {u.code: u for u in session.exec(select(OrgUnit))}
    code_of = {u.id: u.code for u in units.values()}
    rejected: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    good: list[tuple[int, dict[str, str]]] = []
    lengths = ("code", "name", "name_en")
    for line, values in table.rows:
        problems = _field_problems(values, OrgUnit, lengths, ("code", "name", "kind"))
        code, kind = values.get("code", ""), values.get("kind", "")
        if kind and kind not in KINDS:
            problems.append(f"unknown kind '{kind}' (use one of: {', '.join(KINDS)})")
        if code in first_line:
            problems.append(f"code '{code}' appears again (first on line {first_line[code]})")
        elif code:
            first_line[code] = line
        if problems:
            rejected += [(line, p) for p in problems]
        else:
            good.append((line, values))

    parent_of: dict[str, str | None] = {
        u.code: code_of.get(u.parent_id) if u.parent_id else None for u in units.values()
    }
    parent_of.update({v["code"]: v["parent_code"] or None for _, v in good})
    for line, values in good:
        parent = values["parent_code"]
        if parent and parent == values["code"]:
            rejected.append((line, "a unit cannot be its own parent"))
        elif parent and parent not in units and parent not in first_line:
            rejected.append((line, f"unknown parent code '{parent}'"))
        elif (loop := _loop_through(values["code"], parent_of)) and values["code"] in loop:
            rejected.append((line, f"parent codes go round in a loop: {' → '.join(loop)}"))
    if rejected:
        raise _fail("org", len(table.rows), rejected)

    report = ImportReport("org units", total=len(good))
    ordered = sorted(good, key=lambda row: _depth(row[1]["code"], parent_of))
    for done, (_line, values) in enumerate(ordered, 1):
        _upsert_unit(session, units, values, report)
        if progress:
            progress(done, len(ordered))
    session.flush()
    return report


def _upsert_unit(
    session: Session, units: dict[str, OrgUnit], values: dict[str, str], report: ImportReport
) -> None:
    parent = units[values["parent_code"]] if values["parent_code"] else None
    unit = units.get(values["code"])
    if unit is None:
        units[values["code"]] = org.create_unit(
            session, code=values["code"], name=values["name"], kind=values["kind"],
            parent=parent, name_en=values.get("name_en", ""),
        )
        report.created += 1
        return
    changed = _assign(unit, {k: values[k] for k in ("name", "name_en", "kind") if k in values})
    if unit.parent_id != (parent.id if parent else None):
        org.move_unit(session, unit=unit, parent=parent)
        changed = True
    if changed:
        report.updated += 1
    else:
        report.unchanged += 1


def _assign(row: Any, values: Mapping[str, Any]) -> bool:
    """Set attributes that differ; whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


# --- people ----------------------------------------------------------------------------------


class TitleBook(Protocol):
    """Maps the bank's names for titles to the schemes' titles (app/promotions/titles.py)."""

    def parse(self, grade: str | None, titles: str | None) -> tuple[list[Any], list[str]]:
        """The titles a row names, and what is wrong with the names."""

    def hold(self, session: Session, person: Person, titles: list[Any]) -> bool:
        """Record the titles for the person; whether anything changed."""


@dataclass
class _PersonRow:
    line: int
    values: dict[str, str]
    roles: list[tuple[str, str, str]] | None  # (kind, name, unit code); None: column absent
    titles: list[Any] | None = None  # titles per scheme; None: neither column names any


def import_people(
    session: Session,
    source: Source,
    progress: Progress | None = None,
    vocabulary: Vocabulary | None = None,
    titles: TitleBook | None = None,
) -> ImportReport:
    """Create or update people from people.csv, with supervisors, roles, seats and titles."""
    return apply_people(session, read_csv(source), progress, vocabulary, titles)


def default_title_book() -> TitleBook:
    """The titles of the configured promotion schemes."""
    from app.promotions.titles import default_title_book as book

    return book()


def default_vocabulary() -> Vocabulary:
    """The role and committee names of the configured workflows directory."""
    from app.config import get_settings

    return load_vocabulary(get_settings().workflows_dir / "organisation.yaml")


def _parse_roles(
    text: str, vocabulary: Vocabulary, unit_codes: Mapping[str, Any]
) -> tuple[list[tuple[str, str, str]], list[str]]:
    roles: list[tuple[str, str, str]] = []
    problems: list[str] = []
    for entry in (e.strip() for e in ROLE_SEPARATORS.split(text)):
        if not entry:
            continue
        match = ROLE_RE.match(entry)
        if not match:
            problems.append(
                f"roles entry '{entry}' is not kind:name@unit_code "
                "(e.g. role:hr@BR01 or committee:leadership_group@BR01)"
            )
            continue
        kind, name, unit_code = match.groups()
        known = vocabulary.roles if kind == "role" else vocabulary.committees
        if name not in known:
            problems.append(f"unknown {kind} '{name}' (known: {', '.join(sorted(known)) or '-'})")
        if unit_code not in unit_codes:
            problems.append(f"unknown unit code '{unit_code}' in roles entry '{entry}'")
        if (kind, name, unit_code) not in roles:
            roles.append((kind, name, unit_code))
    return roles, problems


def _locale(value: str) -> str | None:
    aliases = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh_cn": "zh_CN", "en": "en", "en-us": "en",
               "en_us": "en", "en-gb": "en", "en_gb": "en"}
    found = aliases.get(value.lower(), value)
    return found if found in LOCALES else None


def _check_person(
    line: int,
    values: dict[str, str],
    units: Mapping[str, OrgUnit],
    vocabulary: Vocabulary,
    book: TitleBook,
) -> tuple[_PersonRow | None, list[str]]:
    lengths = ("employee_no", "name", "name_en", "email", "post", "grade")
    problems = _field_problems(values, Person, lengths, PEOPLE_REQUIRED)
    unit_code = values.get("org_unit_code", "")
    if unit_code and unit_code not in units:
        problems.append(f"unknown unit code '{unit_code}'")
    email = values.get("email", "")
    if email and not EMAIL_RE.match(email):
        problems.append(f"'{email}' is not an email address")
    if values.get("locale"):
        locale = _locale(values["locale"])
        if locale is None:
            problems.append(f"unknown locale '{values['locale']}' (use zh_CN or en)")
        else:
            values["locale"] = locale
    roles = None
    if "roles" in values:
        roles, role_problems = _parse_roles(values["roles"], vocabulary, units)
        problems += role_problems
    titles = None
    if values.get("grade") or values.get("titles"):
        titles, title_problems = book.parse(values.get("grade"), values.get("titles"))
        problems += title_problems
    if problems:
        return None, problems
    return _PersonRow(line, values, roles, titles), []


def apply_people(
    session: Session,
    table: CsvTable,
    progress: Progress | None = None,
    vocabulary: Vocabulary | None = None,
    titles: TitleBook | None = None,
) -> ImportReport:
    """Check every person row, then upsert people and, in a second pass, supervisors, roles
    and titles (the grade and titles columns name titles in the bank's words; an unknown or
    ambiguous name rejects the row)."""
    _check_header(table, PEOPLE_REQUIRED, PEOPLE_OPTIONAL)
    vocabulary = vocabulary or default_vocabulary()
    book = titles or default_title_book()
    units = {u.code: u for u in session.exec(select(OrgUnit))}
    people = {p.employee_no: p for p in session.exec(select(Person))}
    number_of = {p.id: p.employee_no for p in people.values()}
    rejected: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    good: list[_PersonRow] = []
    for line, values in table.rows:
        row, problems = _check_person(line, values, units, vocabulary, book)
        number = values.get("employee_no", "")
        if number in first_line:
            problems.append(
                f"employee number '{number}' appears again (first on line {first_line[number]})"
            )
            row = None
        elif number:
            first_line[number] = line
        rejected += [(line, p) for p in problems]
        if row is not None:
            good.append(row)

    boss_of: dict[str, str | None] = {
        p.employee_no: number_of.get(p.supervisor_id) if p.supervisor_id else None
        for p in people.values()
    }
    if "supervisor_no" in table.columns:
        boss_of.update({r.values["employee_no"]: r.values["supervisor_no"] or None for r in good})
    for row in good:
        number, boss = row.values["employee_no"], row.values.get("supervisor_no")
        if boss and boss == number:
            rejected.append((row.line, "a person cannot be their own supervisor"))
        elif boss and boss not in people and boss not in first_line:
            rejected.append((row.line, f"unknown supervisor number '{boss}'"))
        elif (loop := _loop_through(number, boss_of)) and number in loop:
            rejected.append((row.line, f"supervisors go round in a loop: {' → '.join(loop)}"))
    if rejected:
        raise _fail("people", len(table.rows), rejected)

    report = ImportReport("people", total=len(good))
    created: set[str] = set()
    changed: set[str] = set()
    for done, row in enumerate(good, 1):
        _upsert_person(session, people, units, row, created, changed)
        if progress:
            progress(done, len(good))
    session.flush()
    held = _assignments(session, [people[r.values["employee_no"]].id for r in good])
    for row in good:
        person = people[row.values["employee_no"]]
        if "supervisor_no" in row.values:
            boss = row.values["supervisor_no"]
            if _assign(person, {"supervisor_id": people[boss].id if boss else None}):
                changed.add(person.employee_no)
        if row.roles is not None and _sync_roles(session, person, row.roles, units, held):
            changed.add(person.employee_no)
        if row.titles and book.hold(session, person, row.titles):
            changed.add(person.employee_no)
    session.flush()
    report.created = len(created)
    report.updated = len(changed - created)
    report.unchanged = report.total - report.created - report.updated
    return report


def _upsert_person(
    session: Session,
    people: dict[str, Person],
    units: Mapping[str, OrgUnit],
    row: _PersonRow,
    created: set[str],
    changed: set[str],
) -> None:
    values = row.values
    attributes: dict[str, Any] = {
        name: values[name]
        for name in ("name", "name_en", "email", "locale", "post", "grade")
        if name in values
    }
    if not attributes.get("locale", "keep"):
        del attributes["locale"]  # a blank locale keeps the default (or the current one)
    attributes["org_unit_id"] = units[values["org_unit_code"]].id
    number = values["employee_no"]
    person = people.get(number)
    password = values.get("password", "")
    if person is None:
        person = Person(employee_no=number, **attributes)
        if password:
            person.password_hash = hash_password(password)
        session.add(person)
        people[number] = person
        created.add(number)
        return
    if _assign(person, attributes):
        changed.add(number)
    if password and not (person.password_hash
                         and verify_password(person.password_hash, password)):
        person.password_hash = hash_password(password)
        changed.add(number)


def _assignments(
    session: Session, person_ids: list[int | None]
) -> dict[int, list[RoleAssignment]]:
    held: dict[int, list[RoleAssignment]] = {}
    if not person_ids:
        return held
    for assignment in session.exec(
        select(RoleAssignment).where(RoleAssignment.person_id.in_(person_ids))
    ):
        held.setdefault(assignment.person_id, []).append(assignment)
    return held


def _sync_roles(
    session: Session,
    person: Person,
    wanted: list[tuple[str, str, str]],
    units: Mapping[str, OrgUnit],
    held: Mapping[int, list[RoleAssignment]],
) -> bool:
    """Make the person's roles and seats exactly the listed ones; whether anything changed."""
    target = {(kind, name, units[code].id) for kind, name, code in wanted}
    current = held.get(person.id or 0, [])
    have = {(a.kind, a.name, a.org_unit_id) for a in current}
    for assignment in current:
        if (assignment.kind, assignment.name, assignment.org_unit_id) not in target:
            session.delete(assignment)
    for kind, name, unit_id in sorted(target - have):
        session.add(RoleAssignment(person_id=person.id, kind=kind, name=name, org_unit_id=unit_id))
    return target != have
