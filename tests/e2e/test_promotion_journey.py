"""A senior promotion case in the browser, in Chinese: scheme C (private finance), the senior
customer-manager route from the application to HR's appointment and the head-office filing
notice, each step acted on through the case's own forms by the person whose turn it is."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlmodel import select

from app.org.models import Person
from app.promotions.grades import add_grade
from tests.e2e.conftest import Live

SCHEME = "bocom_private_finance_2002"
IN_THE_WINDOW = datetime(2026, 3, 10, 10, 0)  # the private-finance round is open in March
APPLICANT = "cm01"  # a customer manager at sub-branch JC01 of the Jiangcheng branch


def make_a_private_finance_customer_manager(live: Live, employee_no: str) -> None:
    """The demo bank's customer managers hold corporate grades; give one a PF title."""
    with live.session() as session:
        person = session.exec(select(Person).where(Person.employee_no == employee_no)).one()
        add_grade(session, person=person, scheme=SCHEME, title="cm", staff_grade=None,
                  effective_from=date(2024, 1, 1))
        session.commit()


def act(page, trigger: str, **fields: str) -> None:  # noqa: ANN001
    """On the case page, take one action with its fields: the form stands beside the facts
    the decision rests on (issue 15: the qualification facts beside the buttons)."""
    decision = page.locator("section#decide")
    assert "学历" in decision.inner_text() or "Highest education" in decision.inner_text()
    form = decision.locator(f"#action-{trigger}")
    for name, value in fields.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[role=alert]").all_inner_texts() == []


def case_page(page, case_url: str, shot, name: str, step: str) -> None:  # noqa: ANN001
    """The case with its route drawn; the current step is the one expected."""
    page.goto(case_url)
    current = page.locator("ol.route li[aria-current=step] .step-label")
    assert current.inner_text() == step, current.all_inner_texts()
    shot(page, name)


def test_a_senior_promotion_goes_from_the_application_to_the_appointment_and_filing(
        live: Live, open_as, shot) -> None:  # noqa: ANN001
    live.sweep(IN_THE_WINDOW)
    make_a_private_finance_customer_manager(live, APPLICANT)

    me = open_as(APPLICANT, "zh-CN")
    me.goto("/promotions")
    me.locator(f"#scheme-{SCHEME}").wait_for()
    shot(me, "my-eligibility")
    me.goto(f"/promotions/apply?scheme={SCHEME}")
    me.locator("select[name=target_title]").select_option("senior_cm")
    me.locator("input[name=fact_good_conduct]").check()
    me.locator("input[name=fact_healthy]").check()
    me.locator("select[name=fact_education]").select_option("bachelor")
    me.locator("[name=fact_years_in_banking]").fill("6")
    me.locator("[name=fact_years_in_private_finance]").fill("3")
    me.locator("select[name=fact_professional_title]").select_option("economist")
    shot(me, "apply")
    me.locator("form[action='/promotions/apply'] button[type=submit]").click()
    me.wait_for_url(re.compile(r"/promotions/cases/\d+$"))
    case_url = me.url
    case_page(me, case_url, shot, "applied", "分行私金部推荐")
    assert me.locator("section#decide").count() == 0  # nothing for the applicant to do now
    assert "办理此案" not in me.content() and "Act on this case" not in me.content()

    department = open_as("pf01", "zh-CN")
    department.goto("/promotions/queue")
    department.locator(f"a[href='{case_url.removeprefix(live.url)}#decide']").first.wait_for()
    shot(department, "queue-department")
    department.goto(case_url)
    act(department, "recommend", comment="业绩突出，同意推荐")
    case_page(department, case_url, shot, "recommended", "分行领导小组审核")

    leadership = open_as("vp01", "zh-CN")
    leadership.goto(case_url)
    act(leadership, "check", comment="经领导小组审核，符合条件")
    case_page(leadership, case_url, shot, "checked", "行长室审定")

    president = open_as("pres01", "zh-CN")
    president.goto(case_url)
    act(president, "decide", comment="同意聘任")
    case_page(president, case_url, shot, "decided", "人教处发文聘任")

    hr = open_as("hr02", "zh-CN")  # reads English by their own preference, whatever the browser
    hr.goto("/promotions/rounds")
    shot(hr, "rounds")
    hr.goto(case_url)
    act(hr, "appoint", issue_date="2026-03-20", document_no="江分人〔2026〕12号",
        comment="自发文之日起聘任")
    hr.goto(case_url)
    hr.locator("strong.state.closed").wait_for()
    appointment = hr.locator("section.appointment")
    assert appointment.inner_text().count("Mar 20, 2026") == 2  # issued, and effective that day
    shot(hr, "appointed")
    hr.emulate_media(media="print")
    shot(hr, "appointment-print-media")

    filing = open_as("file01", "zh-CN")
    filing.goto("/promotions/queue")
    filing.locator("form[action^='/promotions/filings/'] button[type=submit]").first.click()
    filing.wait_for_load_state()
    shot(filing, "filing-acknowledged")


def fits(page) -> bool:  # noqa: ANN001
    """No sideways scrolling: the page is no wider than the phone."""
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_on_a_phone_hr_reads_the_staffing_quota_and_the_vice_president_decides_an_exit(
        live: Live, open_as, shot) -> None:  # noqa: ANN001
    """Issue 18 (staffing quota, exit route) and issue 15 (phones, the decision beside the
    facts), at 390 px in both languages."""
    live.sweep(datetime(2026, 3, 3, 10, 0))
    for lang in ("zh_CN", "en"):
        hr = open_as("hr01", "zh-CN" if lang == "zh_CN" else "en-US", width=390)
        hr.goto(f"/promotions/staffing?branch=JC&lang={lang}")
        hr.locator("#quota ol.quota-lines li").first.wait_for()
        assert hr.locator("#quota ol.quota-lines li").count() >= 9
        assert fits(hr), lang
        shot(hr, f"staffing-{lang}")
        vp = open_as("vp10", "zh-CN", width=390)
        vp.goto(f"/promotions/queue?lang={lang}")
        vp.locator("a[href^='/promotions/exits/']").first.click()
        vp.wait_for_load_state()
        decision = vp.locator("section#decide")
        date_field = decision.locator("#action-approve [name=effective_date]")
        assert date_field.input_value() == "2026-04-01"  # the proposed date, to confirm
        assert ("退出原因" if lang == "zh_CN" else "Reason for leaving") in decision.inner_text()
        assert fits(vp), lang
        shot(vp, f"exit-decision-{lang}")
    decision.locator("#action-approve [name=effective_date]").fill("2026-04-15")
    decision.locator("#action-approve button[type=submit]").click()
    vp.wait_for_load_state()
    vp.locator("strong.state.closed").wait_for()
    assert vp.locator("section#decide").count() == 0
    shot(vp, "exit-approved")
