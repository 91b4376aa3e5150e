"""Every demo role, in both languages, on a phone (390 px) and a desk (1280 px): each My work
row, followed, lands on a page where the form or button it names is present and in view; every
sign/agree/approve control — on the plan page, the case page and the emailed-link page — stands
beside the content being signed; and these pages fit the phone: no sideways scrolling, no name
broken one character per line, every control at least 44 px tall.

Nothing is submitted: the journeys only follow links, so the demo stays as it was seeded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from app.demo import PEOPLE
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.notifications.action_links import link_actions
from app.org.models import Person
from app.reminders.recipients import task_people
from app.tasks.service import my_tasks
from tests.e2e.conftest import Live, sign_in
from tests.links import emailed_link

LANGUAGES = ("zh_CN", "en")
PHONE, DESK = 390, 1280
# actions that sign, agree to or approve what a case holds: they need its content beside them
DECISIONS = {"sign", "begin", "review", "decide", "approve", "recommend", "check", "qualify",
             "appoint"}
NOTHING_WAITING = ("admin", "hr01", "file01")  # roles that only read, in the demo

# What a phone reader would stumble on, measured in the page itself.
PAGE_CHECKS = """() => {
  const main = document.querySelector('main') || document.body;
  const visible = el => {  // folded <details> content keeps a stale box: ask the browser
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({visibilityProperty: true});
  };
  const broken = [];
  const cjk = /[\\u4e00-\\u9fff]/;
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim(), el = node.parentElement;
    if (text.length < 2 || !cjk.test(text) || !el || el.closest('svg') || !visible(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const lines = [...range.getClientRects()].filter(r => r.width > 0);
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (lines.length >= 2 && lines.every(r => r.width < size * 1.6)) broken.push(text.slice(0, 24));
  }
  const controls = main.querySelectorAll(
    'button, a.button, summary, .work-link, select, textarea, ' +
    'input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file])');
  const small = [...controls].filter(visible)
    .filter(el => el.getBoundingClientRect().height < 44)
    .map(el => `${el.tagName.toLowerCase()} "${(el.innerText || el.name || '').trim()}"`
               + ` ${Math.round(el.getBoundingClientRect().height)}px`);
  const decisions = [...document.querySelectorAll('form[data-trigger]')].filter(visible)
    .filter(f => f.hasAttribute('data-signs') || DECISIONS.includes(f.dataset.trigger))
    .map(f => f.dataset.trigger);
  const content = [...document.querySelectorAll('.decision-content')].some(visible);
  return {width: document.documentElement.scrollWidth, inner: innerWidth, broken, small,
          decisions, content};
}""".replace("DECISIONS", str(sorted(DECISIONS)))


def resize(page: Any, width: int) -> None:
    """The page laid out anew at this width (a resize takes effect a frame later)."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_function("w => window.innerWidth === w", arg=width)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => "
                  "requestAnimationFrame(done)))")


def check_page(page: Any, width: int, where: str) -> dict[str, Any]:
    """The page fits the screen, breaks no name, and shows the content beside any decision."""
    found = page.evaluate(PAGE_CHECKS)
    assert found["width"] <= found["inner"], f"{where} at {width} px scrolls sideways"
    assert found["broken"] == [], f"{where} at {width} px breaks text per character"
    if width == PHONE:
        assert found["small"] == [], f"{where}: controls under 44 px on a phone"
    if found["decisions"]:
        assert found["content"], f"{where}: {found['decisions']} offered without the content"
    return found


@pytest.fixture(scope="module")
def people_with_work(live: Live) -> list[str]:
    """Demo people whose My work covers every kind of row there is (each workflow step and kind
    of task once: the same step reads the same for everyone at it), and roles that only read."""
    demo = [row[0] for row in PEOPLE]
    chosen: list[str] = []
    covered: set[tuple[str, str, str]] = set()
    with live.session() as db:
        for person in db.exec(select(Person).where(Person.employee_no.in_(demo))
                              .order_by(Person.employee_no)):
            kinds = {(t.instance.workflow, t.task.state, t.task.kind)
                     for t in my_tasks(db_session=db, person=person)}
            if kinds - covered:
                chosen.append(person.employee_no)
                covered |= kinds
    return chosen + [n for n in NOTHING_WAITING if n not in chosen]


@pytest.fixture(scope="module")
def decision_links(live: Live) -> list[tuple[str, str]]:
    """An emailed action link for every open task that signs or approves: (person, token)."""
    registry = live.app.state.registry
    links: list[tuple[str, str]] = []
    with live.session() as db:
        for task in db.exec(select(Task).where(Task.status == TaskStatus.open)):
            instance = db.get(WorkflowInstance, task.instance_id)
            for person_id in task_people(db, task)[:1]:
                person = db.get(Person, person_id)
                for action in link_actions(db, instance, task, person, registry):
                    if action.transition.trigger in DECISIONS or action.sign_off is not None:
                        spec = registry.compiled(db, instance.definition_id).spec
                        token = emailed_link(db, person=person, task=task, instance=instance,
                                             action=action, spec=spec,
                                             lifetime=timedelta(days=30))
                        links.append((person.employee_no, token))
                        break
        db.commit()
    assert links, "the demo should have plans waiting for a signature or an approval"
    return links


@pytest.fixture
def context(browser: Any, live: Live) -> Iterator[Any]:
    """context(locale) -> a fresh browser context; all are closed after the test."""
    opened: list[Any] = []

    def _open(locale: str) -> Any:
        ctx = browser.new_context(locale=locale, base_url=live.url,
                                  viewport={"width": PHONE, "height": 900})
        ctx.set_default_timeout(10_000)
        opened.append(ctx)
        return ctx

    yield _open
    for ctx in opened:
        ctx.close()


def keep(page: Any, folder: Path, shots: set[str], name: str) -> None:
    """A full-page screenshot, once per kind of page, width and language."""
    if name not in shots:
        shots.add(name)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_every_my_work_row_lands_on_its_action_and_decisions_stand_beside_their_content(
        live: Live, context, artifacts: Path, people_with_work: list[str]) -> None:
    folder = artifacts / "journeys"
    folder.mkdir(exist_ok=True)
    shots: set[str] = set()
    kinds: set[str] = set()
    followed = 0
    for who in people_with_work:
        page = context("zh-CN").new_page()
        sign_in(page, who)
        for lang in LANGUAGES:
            page.goto(f"/tasks?lang={lang}")  # switching, as a reader does, for this session
            rows = page.eval_on_selector_all("li.work", """els => els.map(e => ({
                href: e.querySelector('a').getAttribute('href'), form: e.dataset.form,
                what: e.querySelector('.work-what').innerText}))""")
            for width in (PHONE, DESK):  # one load, measured at both widths
                resize(page, width)
                check_page(page, width, f"My work of {who}")
                if who in ("cm01", "sup02"):  # an employee, a supervisor
                    keep(page, folder, shots, f"{lang}-{width}-my-work-{who}")
            for row in rows:
                assert row["what"].strip() and row["form"], f"{who}: a row without verb or form"
                page.goto(row["href"])
                for width in (PHONE, DESK):
                    resize(page, width)
                    form = page.locator(f"form#{row['form']}")
                    assert form.count() == 1, f"{who}: “{row['what']}” lands without its form"
                    assert form.is_visible(), f"{who}: “{row['what']}” lands with it folded"
                    check_page(page, width, f"{who}: {row['what']} ({row['href']})")
                    # the plan or case page's next-action card, or a promotion's decision
                    card = page.locator("#next-action, section#decide").first
                    kind = card.get_attribute("class") or "case"
                    kind = re.sub(r"[^a-z-]+", "-", kind.split("card-")[-1])
                    keep(page, folder, shots, f"{lang}-{width}-{kind}")
                followed += 1
                if row["href"].startswith("/plans/") and (lang, kind) not in kinds:
                    kinds.add((lang, kind))  # its case page and written plan, once per kind
                    plan = row["href"].split("?")[0]
                    case = page.locator("p.page-links a[href^='/instances/']").get_attribute(
                        "href")
                    for url, name in ((case, f"case-page-{kind}"),
                                      (f"{plan}/print", "written-plan")):
                        page.goto(url)
                        for width in (PHONE, DESK):
                            resize(page, width)
                            check_page(page, width, f"{who}: {url}")
                            if kind in ("sign", "assess", "decide", "progress"):
                                keep(page, folder, shots, f"{lang}-{width}-{name}")
        page.context.close()
    busy = [p for p in people_with_work if p not in NOTHING_WAITING]
    assert busy and followed >= 2 * len(busy), "each chosen person has rows in each language"


def test_every_emailed_decision_link_shows_what_is_being_decided(
        context, artifacts: Path, decision_links: list[tuple[str, str]]) -> None:
    folder = artifacts / "journeys"
    folder.mkdir(exist_ok=True)
    shots: set[str] = set()
    page = context("zh-CN").new_page()  # someone arriving from a reminder, not signed in
    for who, token in decision_links:
        for lang in LANGUAGES:
            page.goto(f"/act/{token}?lang={lang}")
            offered = page.locator("form#link-action").count() == 1
            for width in (PHONE, DESK):
                resize(page, width)
                found = check_page(page, width, f"link page of {who}")
                if offered:
                    assert found["content"], f"{who}: the emailed link offers to decide blind"
                keep(page, folder, shots, f"{lang}-{width}-link{'' if offered else '-sign-in'}")
