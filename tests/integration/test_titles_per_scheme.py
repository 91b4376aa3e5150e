"""Titles per scheme (DOMAIN §4 B, C): people.csv names titles in the bank's own words; the
import maps them through each scheme's names and aliases, rejects unknown or ambiguous ones
with line and reason, and keeps a title history per scheme."""

from __future__ import annotations

import io

import pytest
from sqlmodel import Session, select

from app.errors import ImportFailed
from app.org.importer import import_org, import_people
from app.org.models import OrgUnit, Person
from app.promotions import grades
from app.promotions.eligibility import current_title
from app.promotions.models import GradeHistory
from app.promotions.schemes import get_scheme

ORG = "code,name,name_en,kind,parent_code\nHO,总行,Head office,head_office,\n" \
      "JC,江城分行,Jiangcheng,branch,HO\nJC01,东湖支行,Donghu,sub_branch,JC\n"
HEADER = "employee_no,name,org_unit_code,grade,titles\n"


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


@pytest.fixture
def tree(db: Session, registry) -> None:  # noqa: ANN001
    import_org(db, _csv(ORG))


def person(db: Session, number: str) -> Person:
    return db.exec(select(Person).where(Person.employee_no == number)).one()


def test_the_banks_names_map_to_each_schemes_titles(db, tree) -> None:
    import_people(db, _csv(HEADER + "cm01,张伟,JC01,三级,corporate_cm_2012:客户经理\n"
                                    "cm02,李娜,JC01,见习,交通银行私人金融客户经理（2002）:助理\n"
                                    "cm03,赵磊,JC01, Grade 2 ,\n"))
    held = grades.titles_held(db, person_id=person(db, "cm01").id)
    assert held == {"bocom_post_grades": "grade_3", "corporate_cm_2012": "cm"}
    assert grades.titles_held(db, person_id=person(db, "cm02").id) == {
        "bocom_post_grades": "trainee", "bocom_private_finance_2002": "assistant_cm"}
    assert grades.titles_held(db, person_id=person(db, "cm03").id) == {
        "bocom_post_grades": "grade_2"}
    assert person(db, "cm01").grade == "三级"  # the bank's words are kept as given
    scheme = get_scheme("bocom_post_grades")
    assert current_title(db, person=person(db, "cm01"), scheme=scheme).name == "grade_3"


def test_unknown_or_ambiguous_names_are_rejected_with_line_and_reason(db, tree) -> None:
    with pytest.raises(ImportFailed) as caught:
        import_people(db, _csv(HEADER + "cm01,张伟,JC01,五级,\n"
                                        "cm02,李娜,JC01,高级客户经理,\n"
                                        "cm03,赵磊,JC01,,nowhere:三级\n"
                                        "cm04,孙丽,JC01,三级,bocom_post_grades:二级\n"))
    reasons = dict(caught.value.rejected)
    assert "unknown title '五级'" in reasons[2]
    assert "'高级客户经理' is a title in several schemes" in reasons[3]
    assert "say which in the titles column" in reasons[3]
    assert "unknown scheme 'nowhere'" in reasons[4]
    assert "gives bocom_post_grades a second title" in reasons[5]
    assert db.exec(select(Person)).all() == []  # all or nothing


def test_importing_the_same_titles_again_changes_nothing(db, tree) -> None:
    text = HEADER + "cm01,张伟,JC01,三级,corporate_cm_2012:高级\n"
    import_people(db, _csv(text))
    again = import_people(db, _csv(text))
    assert (again.updated, again.unchanged) == (0, 1)
    assert len(db.exec(select(GradeHistory)).all()) == 2
    moved = import_people(db, _csv(HEADER + "cm01,张伟,JC01,二级,\n"))
    assert moved.updated == 1
    rows = grades.history(db, person_id=person(db, "cm01").id, scheme="bocom_post_grades")
    assert [(r.title, r.previous_grade, r.source) for r in rows] == [
        ("grade_3", "", "import"), ("grade_2", "grade_3", "import")]


def test_the_person_page_names_titles_in_the_readers_language_not_keys(client, login, db,
                                                                       tree) -> None:
    from app.org import service as org_service

    import_people(db, _csv(HEADER + "cm01,张伟,JC01,三级,corporate_cm_2012:客户经理\n"
                                    "hr01,刘洋,JC,,\n"))
    hr = person(db, "hr01")
    org_service.assign(db, person=hr, kind="role", name="hr", unit=db.get(OrgUnit,
                                                                          hr.org_unit_id))
    db.commit()
    login(client, hr)
    page = client.get(f"/assessments/people/{person(db, 'cm01').id}?lang=en")
    assert page.status_code == 200
    assert "Grade-3 customer manager" in page.text and "Customer manager" in page.text
    visible = page.text.split("<main", 1)[1]
    assert "grade_3" not in visible and "corporate_cm_2012" not in visible
