"""CSV import of the org tree and of people: upserts, any order, all or nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from app.auth.passwords import verify_password
from app.errors import ImportFailed
from app.org.importer import import_org, import_people
from app.org.models import OrgUnit, Person, RoleAssignment

DATA = Path(__file__).resolve().parent.parent / "data"
ORG_HEADER = "code,name,name_en,kind,parent_code\n"
PEOPLE_HEADER = (
    "employee_no,name,name_en,email,locale,org_unit_code,post,grade,supervisor_no,roles\n"
)


def _count(db: Session, model: type) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def _unit(db: Session, code: str) -> OrgUnit:
    return db.exec(select(OrgUnit).where(OrgUnit.code == code)).one()


def _person(db: Session, number: str) -> Person:
    return db.exec(select(Person).where(Person.employee_no == number)).one()


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def _rejected(excinfo: pytest.ExceptionInfo[ImportFailed]) -> dict[int, str]:
    lines: dict[int, str] = {}
    for line, reason in excinfo.value.rejected:
        lines[line] = f"{lines[line]}; {reason}" if line in lines else reason
    return lines


@pytest.fixture
def bank_tree(db: Session) -> None:
    """The org tree of tests/data/org.csv."""
    import_org(db, DATA / "org.csv")


def test_org_file_builds_the_tree_even_when_children_come_before_parents(db: Session) -> None:
    report = import_org(db, DATA / "org.csv")

    assert (report.created, report.updated, report.unchanged) == (6, 0, 0)
    head_office, branch, sub_branch = _unit(db, "HO"), _unit(db, "JC"), _unit(db, "JC01")
    assert sub_branch.parent_id == branch.id
    assert sub_branch.path == f"/{head_office.id}/{branch.id}/{sub_branch.id}/"
    assert (sub_branch.name, sub_branch.name_en, sub_branch.kind) == (
        "江城东湖支行", "Jiangcheng Donghu Sub-branch", "sub_branch")


def test_importing_the_org_file_twice_changes_nothing(db: Session) -> None:
    import_org(db, DATA / "org.csv")
    paths = {u.code: u.path for u in db.exec(select(OrgUnit))}

    again = import_org(db, DATA / "org.csv")

    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert {u.code: u.path for u in db.exec(select(OrgUnit))} == paths


def test_org_row_with_a_new_parent_moves_the_unit_and_its_subtree(
    db: Session, bank_tree: None
) -> None:
    report = import_org(db, _csv(ORG_HEADER + "JC,江城分行,Jiangcheng Branch,branch,HZ\n"))

    assert (report.created, report.updated) == (0, 1)
    haizhou, jiangcheng = _unit(db, "HZ"), _unit(db, "JC")
    assert _unit(db, "JC01").path.startswith(f"{haizhou.path}{jiangcheng.id}/")


def test_org_file_with_excel_bom_reads_like_one_without(db: Session) -> None:
    data = "\ufeff".encode() + (DATA / "org.csv").read_bytes()

    report = import_org(db, io.BytesIO(data))

    assert report.created == 6
    assert _unit(db, "HO").name == "总行"


def test_text_stream_with_bom_is_read_too(db: Session) -> None:
    text = "\ufeff" + ORG_HEADER + "HO,总行,Head Office,head_office,\n"

    report = import_org(db, io.StringIO(text))

    assert report.created == 1


def test_every_bad_org_row_is_reported_by_line_and_nothing_is_imported(db: Session) -> None:
    text = ORG_HEADER + (
        "HO,总行,Head Office,head_office,\n"        # 2 fine
        "JC,江城分行,Jiangcheng,region,HO\n"         # 3 unknown kind
        "JC01,东湖支行,Donghu,sub_branch,XX\n"       # 4 unknown parent
        "HO,又一个总行,Again,head_office,\n"         # 5 duplicate code
        "HZ,,Haizhou,branch,HO\n"                   # 6 missing name
    )

    with pytest.raises(ImportFailed) as excinfo:
        import_org(db, _csv(text))

    rejected = _rejected(excinfo)
    assert sorted(rejected) == [3, 4, 5, 6]
    assert "unknown kind 'region'" in rejected[3]
    assert "unknown parent code 'XX'" in rejected[4]
    assert "appears again (first on line 2)" in rejected[5]
    assert "missing name" in rejected[6]
    assert "nothing was imported" in str(excinfo.value)
    assert _count(db, OrgUnit) == 0


def test_units_whose_parents_go_round_in_a_loop_are_rejected(db: Session) -> None:
    text = ORG_HEADER + "A,甲,A,branch,B\nB,乙,B,branch,A\nHO,总行,HO,head_office,\n"

    with pytest.raises(ImportFailed) as excinfo:
        import_org(db, _csv(text))

    rejected = _rejected(excinfo)
    assert sorted(rejected) == [2, 3]
    assert "loop: A → B → A" in rejected[2]
    assert _count(db, OrgUnit) == 0


def test_moving_a_unit_below_its_own_child_is_rejected(db: Session, bank_tree: None) -> None:
    with pytest.raises(ImportFailed) as excinfo:
        import_org(db, _csv(ORG_HEADER + "JC,江城分行,Jiangcheng Branch,branch,JC01\n"))

    assert "loop: JC → JC01 → JC" in _rejected(excinfo)[2]
    assert _unit(db, "JC").parent_id == _unit(db, "HO").id


def test_wrong_header_names_missing_and_unknown_columns(db: Session) -> None:
    with pytest.raises(ImportFailed) as excinfo:
        import_org(db, _csv("code,name,type,parent\nHO,总行,head_office,\n"))

    message = str(excinfo.value)
    assert "missing column(s): kind, parent_code" in message
    assert "unknown column(s): 'type', 'parent'" in message
    assert excinfo.value.rejected[0][0] == 1


def test_file_that_is_not_utf8_is_refused_with_a_hint(db: Session) -> None:
    data = (ORG_HEADER + "HO,总行,Head Office,head_office,\n").encode("gbk")

    with pytest.raises(ImportFailed, match="CSV UTF-8"):
        import_org(db, io.BytesIO(data))


def test_progress_is_reported_for_every_row(db: Session) -> None:
    seen: list[tuple[int, int]] = []

    import_org(db, DATA / "org.csv", progress=lambda done, total: seen.append((done, total)))

    assert seen == [(n, 6) for n in range(1, 7)]


def test_people_file_creates_people_supervisors_roles_and_hashed_passwords(
    db: Session, bank_tree: None
) -> None:
    report = import_people(db, DATA / "people.csv")

    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    cm, boss, president, hr = (_person(db, n) for n in ("cm01", "sup01", "pres01", "hr01"))
    assert cm.supervisor_id == boss.id and boss.supervisor_id == president.id
    assert (cm.name, cm.name_en, cm.post, cm.org_unit_id) == (
        "张伟", "Zhang Wei", "客户经理", _unit(db, "JC01").id)
    assert hr.locale == "en"
    assert hr.password_hash and "s3cret" not in hr.password_hash
    assert verify_password(hr.password_hash, "s3cret-Pass")
    assert cm.password_hash is None
    seats = {(a.kind, a.name) for a in db.exec(
        select(RoleAssignment).where(RoleAssignment.person_id == president.id))}
    assert seats == {("committee", "leadership_group"), ("committee", "president_office")}
    hr_role = db.exec(select(RoleAssignment).where(RoleAssignment.person_id == hr.id)).one()
    assert (hr_role.kind, hr_role.name, hr_role.org_unit_id) == ("role", "hr", _unit(db, "JC").id)


def test_importing_the_people_file_twice_changes_nothing(db: Session, bank_tree: None) -> None:
    import_people(db, DATA / "people.csv")
    hashes = {p.employee_no: p.password_hash for p in db.exec(select(Person))}

    again = import_people(db, DATA / "people.csv")

    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert {p.employee_no: p.password_hash for p in db.exec(select(Person))} == hashes
    assert _count(db, RoleAssignment) == 3


def test_changed_person_is_updated_and_roles_follow_the_file(
    db: Session, bank_tree: None
) -> None:
    import_people(db, DATA / "people.csv")
    text = PEOPLE_HEADER + (
        "pres01,李强,Li Qiang,li.qiang@bank.example.com,zh_CN,JC,行长,,,"
        "committee:leadership_group@JC\n"
        "cm01,张伟,Zhang Wei,zhang.wei@bank.example.com,zh_CN,JC01,高级客户经理,二级,pres01,\n"
    )

    report = import_people(db, _csv(text))

    assert (report.created, report.updated, report.unchanged) == (0, 2, 0)
    cm, president = _person(db, "cm01"), _person(db, "pres01")
    assert (cm.post, cm.grade, cm.supervisor_id) == ("高级客户经理", "二级", president.id)
    seats = db.exec(select(RoleAssignment.name).where(RoleAssignment.person_id == president.id))
    assert list(seats) == ["leadership_group"]


def test_columns_left_out_keep_their_values(db: Session, bank_tree: None) -> None:
    import_people(db, DATA / "people.csv")

    report = import_people(db, _csv("employee_no,name,org_unit_code\ncm01,张伟,JC01\n"))

    assert report.unchanged == 1
    cm = _person(db, "cm01")
    assert (cm.email, cm.supervisor_id) == ("zhang.wei@bank.example.com", _person(db, "sup01").id)


def test_every_bad_person_row_is_reported_by_line_and_nothing_is_imported(
    db: Session, bank_tree: None
) -> None:
    text = PEOPLE_HEADER + (
        "cm01,张伟,Zhang Wei,zw@bank.example.com,zh_CN,JC01,客户经理,,,\n"     # 2 fine
        "cm02,李娜,Li Na,ln@bank.example.com,zh_CN,NOWHERE,客户经理,,,\n"       # 3 unit
        "cm03,赵磊,Zhao Lei,zl@bank.example.com,zh_CN,JC01,客户经理,,boss9,\n"   # 4 supervisor
        "cm01,张伟,Zhang Wei,zw@bank.example.com,zh_CN,JC01,客户经理,,,\n"      # 5 duplicate
        "cm04,孙丽,Sun Li,not-an-email,zh_CN,JC01,客户经理,,,\n"                  # 6 email
        "hr09,周敏,Zhou Min,zm@bank.example.com,zh_CN,JC,人事,,,role:payroll@JC\n"  # 7 role
        "ld09,吴刚,Wu Gang,wg@bank.example.com,zh_CN,JC,副行长,,,committee:board@JC\n"  # 8
        ",郑洁,Zheng Jie,zj@bank.example.com,zh_CN,JC01,柜员,,,\n"                # 9 number
        "cm05,钱进,Qian Jin,qj@bank.example.com,fr,JC01,客户经理,,,role:hr@XX\n"   # 10
    )

    with pytest.raises(ImportFailed) as excinfo:
        import_people(db, _csv(text))

    rejected = _rejected(excinfo)
    assert sorted(rejected) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "unknown unit code 'NOWHERE'" in rejected[3]
    assert "unknown supervisor number 'boss9'" in rejected[4]
    assert "employee number 'cm01' appears again (first on line 2)" in rejected[5]
    assert "'not-an-email' is not an email address" in rejected[6]
    assert "unknown role 'payroll'" in rejected[7]
    assert "unknown committee 'board'" in rejected[8]
    assert "missing employee_no" in rejected[9]
    assert "unknown locale 'fr'" in rejected[10] and "unknown unit code 'XX'" in rejected[10]
    assert _count(db, Person) == 0


def test_supervisors_that_go_round_in_a_loop_are_rejected(db: Session, bank_tree: None) -> None:
    text = PEOPLE_HEADER + (
        "a1,甲,A,,zh_CN,JC01,客户经理,,b1,\n"
        "b1,乙,B,,zh_CN,JC01,支行长,,c1,\n"
        "c1,丙,C,,zh_CN,JC,行长,,a1,\n"
        "d1,丁,D,,zh_CN,JC01,柜员,,a1,\n"
    )

    with pytest.raises(ImportFailed) as excinfo:
        import_people(db, _csv(text))

    rejected = _rejected(excinfo)
    assert sorted(rejected) == [2, 3, 4]
    assert "supervisors go round in a loop: a1 → b1 → c1 → a1" in rejected[2]
    assert _count(db, Person) == 0


def test_own_supervisor_is_rejected(db: Session, bank_tree: None) -> None:
    with pytest.raises(ImportFailed) as excinfo:
        import_people(db, _csv(PEOPLE_HEADER + "a1,甲,A,,zh_CN,JC01,客户经理,,a1,\n"))

    assert "cannot be their own supervisor" in _rejected(excinfo)[2]


def test_people_file_with_excel_bom_and_quoted_values_is_read(
    db: Session, bank_tree: None
) -> None:
    text = "\ufeff" + PEOPLE_HEADER + (
        'pres01,李强,"Li, Qiang",,zh_CN,JC,行长,,,'
        '"committee:leadership_group@JC; committee:president_office@JC"\n'
    )

    report = import_people(db, _csv(text))

    assert report.created == 1
    assert _person(db, "pres01").name_en == "Li, Qiang"
    assert _count(db, RoleAssignment) == 2
