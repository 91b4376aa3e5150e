"""The improvement-plan journey in the browser: drafted by the employee, agreed by the supervisor
from the link in a real email, checkpoints with evidence, review, the written plan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from tests.e2e.conftest import Live


@dataclass(frozen=True)
class Words:
    """What a reader types and clicks, in one language."""

    locale: str
    employee: str
    supervisor: str
    title: str
    requirement: str
    actual: str
    method: str
    goal: str
    step: str
    result: str
    progress: str
    buttons: dict[str, str]


EN = Words(
    locale="en-US", employee="cm02", supervisor="sup01",
    title="Reports sent late", requirement="Monthly report due on the 6th",
    actual="Sent on the 8th at the earliest", method="Prepare the data on the 4th",
    goal="Every monthly report sent by the 6th", step="Agree a data calendar with the branch",
    result="Calendar signed", progress="Data calendar agreed; March report sent on the 5th",
    buttons={"open": "Open the plan", "gap_recorded": "Submit the gaps",
             "save_decision": "Save decision", "add_cause": "Add cause",
             "causes_analysed": "Submit the cause analysis", "add_method": "Add method",
             "methods_chosen": "Confirm the methods", "save": "Save", "add_step": "Add step",
             "plan_drafted": "Finish the draft", "propose": "Send for both signatures",
             "sign": "Sign the plan", "record": "Record progress", "save_check": "Save check",
             "save_review": "Save review", "begin": "Start carrying out",
             "submit_review": "Submit for review", "review": "Record review outcome",
             "write_review": "Write the period-end review and submit it"},
)
ZH = Words(
    locale="zh-CN", employee="cm03", supervisor="sup02",
    title="服务态度生硬", requirement="客户评价满意率不低于95%",
    actual="近三个月多次被客户评价服务态度差", method="每日晨会演练服务话术",
    goal="客户服务评价满意率达到95%", step="参加服务礼仪培训", result="培训合格证",
    progress="已完成服务礼仪培训，本月满意率93%",
    buttons={"open": "发起计划", "gap_recorded": "提交差距", "save_decision": "保存决定",
             "add_cause": "添加原因", "causes_analysed": "提交原因分析", "add_method": "添加方法",
             "methods_chosen": "确定改进方法", "save": "保存", "add_step": "添加步骤",
             "plan_drafted": "完成计划起草", "propose": "提交双方签字", "sign": "签字确认",
             "record": "记录进展", "save_check": "保存检查结果", "save_review": "保存总结",
             "begin": "开始实施", "submit_review": "提交期末评估", "review": "记录评估结论",
             "write_review": "撰写期末总结并提交评估"},
)


def _button(scope, text: str):  # noqa: ANN001, ANN202
    return scope.get_by_role("button", name=text, exact=True)


def reveal(page, css: str):  # noqa: ANN001, ANN202
    """The form `css`, the <details> folded around it opened, outermost first, by clicking
    their summaries as a reader does."""
    form = page.locator(css).first
    folded = page.locator(f"details:not([open]):has({css})")
    while folded.count():
        folded.first.locator("xpath=./summary").click()
    return form


def draft_plan(page, w: Words, shot, start: date) -> int:  # noqa: ANN001
    """The employee opens a plan and drafts it through every step, then proposes it."""
    page.goto("/plans/new")
    shot(page, "new-plan")
    form = page.locator("#plan-new")
    form.locator("[name=title]").fill(w.title)
    form.locator("[name=requirement]").fill(w.requirement)
    form.locator("[name=actual]").fill(w.actual)
    form.locator("[name=baseline]").fill("82")
    form.locator("[name=target]").fill("95")
    _button(form, w.buttons["open"]).click()
    page.wait_for_url(re.compile(r"/plans/\d+$"))
    plan_id = int(page.url.rsplit("/", 1)[1])
    shot(page, "draft")

    _button(page.locator("#action-record_gap"), w.buttons["gap_recorded"]).click()
    decision = reveal(page, "form[id$=-decision]")
    decision.locator("select[name=included]").select_option("true")
    _button(decision, w.buttons["save_decision"]).click()
    cause = reveal(page, "form[id$=-cause]")
    cause.locator("select[name=side]").select_option("employee")
    cause.locator("select[name=nature]").select_option("subjective")
    cause.locator("select[name=catalogue_key]").select_option(index=1)
    _button(cause, w.buttons["add_cause"]).click()
    shot(page, "gap-and-cause")
    _button(page.locator("#action-analyse_causes"), w.buttons["causes_analysed"]).click()

    method = reveal(page, "#method-new")
    method.get_by_label(re.compile("Method|方法")).first.fill(w.method)
    method.locator("select[name=origin]").select_option(index=1)
    method.locator("input[name=chosen]").check()
    _button(method, w.buttons["add_method"]).click()
    _button(page.locator("#action-choose_methods"), w.buttons["methods_chosen"]).click()

    details = reveal(page, "#details-form")
    details.locator("[name=goal]").fill(w.goal)
    details.locator("[name=goal_metric]").fill("%")
    details.locator("[name=goal_target]").fill("95")
    details.locator("[name=resources]").fill("Weekly coaching" if w.locale == "en-US"
                                             else "主管每周听课一次")
    details.locator("[name=period_start]").fill(start.isoformat())
    details.locator("[name=period_end]").fill(date(start.year, start.month + 2, 28).isoformat())
    details.locator("select[name=cadence]").select_option("monthly")
    _button(details, w.buttons["save"]).click()
    step = reveal(page, "#step-new")
    step.locator("[name=description]").fill(w.step)
    step.locator("[name=due_on]").fill(date(start.year, start.month, 20).isoformat())
    step.locator("[name=expected_result]").fill(w.result)
    _button(step, w.buttons["add_step"]).click()
    _button(page.locator("#action-draft_plan"), w.buttons["plan_drafted"]).click()
    shot(page, "drafted")
    _button(page.locator("#action-propose"), w.buttons["propose"]).click()
    _button(page.locator("#action-sign"), w.buttons["sign"]).click()
    shot(page, "employee-signed")
    return plan_id


def supervisor_agrees_from_the_email(live: Live, open_as, w: Words, shot,  # noqa: ANN001
                                     first_sweep: datetime) -> None:
    """The sweep mails the reminder; the supervisor follows its link and agrees."""
    address = f"{w.supervisor}@demo-bank.example.com"
    before = len(live.links_to(address, about=w.title))
    day = first_sweep
    for _ in range(6):
        live.sweep(day)
        if len(live.links_to(address, about=w.title)) > before:
            break
        day = day.replace(day=day.day + 1)
    links = live.links_to(address, about=w.title)[before:]
    assert links, f"no email with an action link reached {address}"
    page = open_as(None, w.locale)
    page.goto(links[-1])
    shot(page, "link-confirmation")
    assert page.locator("#content-signed").is_visible()  # what is signed, beside the button
    _button(page.locator("#link-action"), w.buttons["sign"]).click()
    page.locator("h1").wait_for()
    shot(page, "link-done")
    assert page.locator("p.flash[role=status]").count() == 1


@pytest.mark.parametrize("w", [EN, ZH], ids=["en", "zh_CN"])
def test_a_plan_goes_from_draft_to_closed_with_the_supervisor_agreeing_by_email(
        live: Live, open_as, shot, w: Words, tmp_path: Path) -> None:  # noqa: ANN001
    start = date(2026, 3, 3) if w is EN else date(2026, 4, 7)
    live.sweep(datetime(start.year, start.month, start.day, 10, 0))
    me = open_as(w.employee, w.locale)
    shot(me, "my-work")
    plan_id = draft_plan(me, w, shot, start)
    supervisor_agrees_from_the_email(
        live, open_as, w, shot, datetime(start.year, start.month, start.day + 1, 10, 0))
    me = open_as(w.employee, w.locale)  # days later: a new sign-in (sessions expire)
    me.goto(f"/plans/{plan_id}")
    shot(me, "agreed")
    _button(me.locator("#action-begin"), w.buttons["begin"]).click()
    checkpoints_recorded_and_checked(live, open_as, me, w, shot, plan_id, tmp_path)
    review_and_close(open_as, me, w, shot, plan_id)


def checkpoints_recorded_and_checked(live: Live, open_as, me, w: Words, shot,  # noqa: ANN001
                                     plan_id: int, tmp_path: Path) -> None:
    """The employee records progress with an evidence file; the supervisor checks it."""
    evidence = tmp_path / "evidence.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% customer evaluation\n")
    progress = reveal(me, "form[id$=-progress]")
    progress.locator("[name=progress]").fill(w.progress)
    progress.locator("[name=evidence_text]").fill("Customer evaluation sheet"
                                                  if w is EN else "客户评价表")
    progress.locator("input[type=file]").set_input_files(str(evidence))
    _button(progress, w.buttons["record"]).click()
    me.locator("ul.evidence a", has_text="evidence.pdf").wait_for()
    shot(me, "checkpoint-recorded")
    boss = open_as(w.supervisor, w.locale)
    if w is EN:
        boss.goto("/tasks?lang=en")  # the supervisor reads Chinese unless they switch
    boss.goto(f"/plans/{plan_id}")
    check = boss.locator("form[id$=-check]").first
    check.locator("select[name=result]").select_option("on_track")
    check.locator("[name=comment]").fill("Good progress" if w is EN else "进展良好")
    _button(check, w.buttons["save_check"]).click()
    boss.locator("article.checkpoint.status-checked").first.wait_for()
    shot(boss, "checkpoint-checked")


def review_and_close(open_as, me, w: Words, shot, plan_id: int) -> None:  # noqa: ANN001
    """The employee fills in the period-end review and submits it; the supervisor closes."""
    me.goto("/tasks")
    me.locator(".work-link", has_text=w.buttons["write_review"]).first.click()
    review = me.locator("#review-form")
    review.locator("[name=period_label]").fill("2026 Q2" if w is EN else "2026年二季度")
    review.locator("[name=cut_off_on]").fill("2026-06-30")
    review.locator("[name=indicators-0-indicator]").fill("On-time reports" if w is EN
                                                         else "服务满意率")
    review.locator("[name=indicators-0-unit]").fill("%")
    review.locator("[name=indicators-0-actual]").fill("100")
    review.locator("[name=indicators-0-plan_value]").fill("100")
    _button(review, w.buttons["save_review"]).click()
    me.wait_for_load_state()
    assert me.locator("[role=alert], .error").all_inner_texts() == []
    _button(me.locator("#action-submit_review"), w.buttons["submit_review"]).click()
    shot(me, "submitted-for-review")
    boss = open_as(w.supervisor, w.locale)
    if w is EN:
        boss.goto("/tasks?lang=en")
    boss.goto(f"/plans/{plan_id}")
    decide = boss.locator("#action-review")
    decide.locator("select[name=outcome]").select_option("met")
    decide.locator("[name=comment]").fill("Requirement met" if w is EN else "达到要求")
    _button(decide, w.buttons["review"]).click()
    boss.locator("#next-action.card-ended").wait_for()
    shot(boss, "closed")
    boss.goto(f"/plans/{plan_id}/print")
    shot(boss, "written-plan")
    boss.emulate_media(media="print")
    shot(boss, "written-plan-print-media")
