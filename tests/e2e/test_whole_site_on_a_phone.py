"""Every page, as every demo role, in both languages, on a phone: one crawl of the navigation.

For each role and language one browser context signs in and visits every page its navigation
leads to, and one page of each kind those pages link to (a plan, a case, a promotion case, a
person's results...). At 390 px no page may scroll sideways, and no page may show a word a
person did not type: a scheme id, a workflow id, a grade key, a state or action name. The
first time a kind of page is seen in a language it is kept as a screenshot at 390 px and at
1280 px under tests/e2e/artifacts/pages/, to be looked at page by page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from app import clock
from app.engine.models import Task, TaskStatus, WorkflowInstance
from app.notifications import action_links
from app.org.models import Person
from tests.e2e.conftest import PASSWORD, SEEDED_AT, Live

PHONE, DESKTOP = 390, 1280

# One demo person per role the demo bank has (README: the sign-in page lists them).
ROLES: dict[str, str] = {
    "employee": "cm01",
    "teller": "tel06",
    "supervisor": "sup01",
    "hr-head-office": "hr01",
    "hr-branch": "hr02",
    "president": "pres01",
    "committee": "vp01",
    "department-reviewer": "pf01",
    "chief-accountant": "acc01",
    "filing": "file01",
    "administrator": "admin",
}
LANGUAGES = {"zh_CN": "zh-CN", "en": "en-US"}

# Links that are not pages to read: downloads, feeds, the API, signing out, switching language.
NOT_A_PAGE = re.compile(r"\.(xlsx|csv|ics|svg|pdf|json)$|^/(api|docs|redoc|openapi|logout|act/)"
                        r"|/(files|evidence|attachments)/")
# A page "kind": its path with every number replaced, so one plan stands for all plans.
NUMBER = re.compile(r"/\d+(?=/|$)")

# Words on a page that no person typed: snake_case keys (improvement_plan, corp_grade,
# senior_cm, bocom_private_finance_2002 ...).
SNAKE_CASE = re.compile(r"(?<![\w@./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
# On a Chinese page, Latin abbreviations and codes that have Chinese words (Q4, CNY, a grade
# key such as "cm") are identifiers too; names of products and formats are not.
LATIN_WORD = re.compile(r"(?<![\w@./:-])[A-Za-z][A-Za-z]*[0-9]*(?![\w@/-])")
LATIN_ALLOWED = {"Stepwise", "English", "Excel", "CSV", "ICS", "iCalendar", "API", "PDF", "SVG",
                 "URL", "HTTP", "HTTPS", "JSON", "SHA", "Outlook", "PNG", "XLSX"}

WIDTH_AND_NAV = """() => ({
  scroll: document.documentElement.scrollWidth,
  inner: window.innerWidth,
  text: document.body.innerText,
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href')),
  wide: Array.from(document.querySelectorAll('main *, header *')).filter(e => {
      const r = e.getBoundingClientRect();
      return r.right > window.innerWidth + 1 && r.width > 0;
    }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '')),
  small: Array.from(document.querySelectorAll(
      'button, a.button, select, textarea, summary, .topbar a, '
      + 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0
                   && r.height < 44 && !e.closest('.visually-hidden'); })
    .slice(0, 5).map(e => e.tagName.toLowerCase() + ' "' + (e.innerText || e.name || '').trim().slice(0, 20) + '" '
                         + Math.round(e.getBoundingClientRect().height) + 'px'),
  typed: Array.from(document.querySelectorAll('code, kbd, samp')).map(e => e.innerText),
  charts: Array.from(document.querySelectorAll('figure.chart svg, figure.diagram svg')).map(svg => {
    const box = svg.getBoundingClientRect();
    const view = svg.viewBox && svg.viewBox.baseVal;
    const scale = view && view.width ? box.width / view.width : 1;
    const small = [], clipped = [];
    for (const t of svg.querySelectorAll('text')) {
      const words = t.textContent.trim();
      const r = t.getBoundingClientRect();
      if (!words || !r.width) continue;
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < 11.9) small.push(words.slice(0, 16) + ' ' + px.toFixed(1) + 'px');
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
          || r.bottom > box.bottom + 1) clipped.push(words.slice(0, 16));
    }
    const panel = svg.closest('.report-panel');
    const counted = panel ? Array.from(panel.querySelectorAll('table.numbers tbody td.num'))
      .some(td => parseFloat(td.innerText.replace(/,/g, '')) > 0) : false;
    const drawn = Array.from(svg.querySelectorAll('.rect, .slice, .line'))
      .some(e => { const r = e.getBoundingClientRect(); return r.width > 0.5 && r.height > 0.5; });
    return {small: small.slice(0, 3), clipped: clipped.slice(0, 3),
            empty: counted && !drawn, id: (panel && panel.id) || 'diagram'};
  }),
  cramped: Array.from(document.querySelectorAll('td, th, a, button, label, dd, dt, span'))
    .filter(e => {
      const r = e.getBoundingClientRect();
      const t = (e.innerText || '').trim();
      return r.width > 0 && r.width < 24 && /[\\u4e00-\\u9fff]{2,}/.test(t) && r.height > 40;
    }).slice(0, 5).map(e => (e.innerText || '').trim().slice(0, 12)),
})"""


@dataclass
class Findings:
    """Everything the crawl found wrong, page by page, and what it looked at."""

    problems: list[str] = field(default_factory=list)
    visited: int = 0
    shots: list[Path] = field(default_factory=list)

    def add(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")


def page_kind(href: str) -> str:
    """The path of a link with its numbers replaced (one plan page stands for every plan)."""
    return NUMBER.sub("/{id}", urlsplit(href).path.rstrip("/") or "/")


def own_pages(links: Iterable[str]) -> list[str]:
    """The links that lead to pages of this site, without fragments."""
    found = []
    for href in links:
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        parts = urlsplit(href)
        if parts.netloc and not parts.netloc.startswith("127.0.0.1"):
            continue
        if "lang=" in parts.query or NOT_A_PAGE.search(parts.path) or parts.path == "/":
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def identifiers_in(text: str, locale: str, typed_words: set[str]) -> list[str]:
    """Words in a page's visible text that are internal keys rather than words for people."""
    found = {m.group(0) for m in SNAKE_CASE.finditer(text)}
    if locale == "zh_CN":
        found |= {word for word in (m.group(0) for m in LATIN_WORD.finditer(text))
                  if word not in LATIN_ALLOWED and word not in typed_words}
    return sorted(found)


def known_keys(live: Live) -> set[str]:
    """The keys of the workflow and scheme files (workflows, steps, actions, schemes, titles)
    that are more than one word: shown to a person, even as code, they are a leak."""
    from app.promotions.schemes import schemes_of

    registry = live.app.state.registry
    keys: set[str] = set()
    for name, loaded in registry.files.items():
        keys.add(name)
        keys.update(loaded.spec.states)
        keys.update(t.trigger for t in loaded.spec.transitions)
    for name, scheme in schemes_of(registry).items():
        keys.add(name)
        keys.update(title.name for title in scheme.titles)
    return {key for key in keys if "_" in key}


def typed_words(live: Live) -> set[str]:
    """Latin words people wrote that a Chinese page may show: employee numbers (what one types
    to sign in: cm01, admin) and the clause numbers of the bank's own rules (Q4, A.5)."""
    from app.promotions.schemes import schemes_of

    def rule_ids(node: Any) -> Iterable[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "rule" and isinstance(value, str):
                    yield from re.findall(r"[A-Za-z]+\d*", value)
                yield from rule_ids(value)
        elif isinstance(node, list):
            for value in node:
                yield from rule_ids(value)

    words = {word for scheme in schemes_of(live.app.state.registry).values()
             for word in rule_ids(scheme.model_dump())}
    with live.session() as session:
        return words | set(session.exec(select(Person.employee_no)))


def link_page(live: Live) -> str:
    """An emailed action link, minted as the reminder sweep mints them: the supervisor of a
    plan awaiting one more signature may sign it."""
    registry = live.app.state.registry
    with live.session() as session:
        for task in session.exec(select(Task).where(Task.status == TaskStatus.open,
                                                    Task.state == "plan_proposed")):
            instance = session.get(WorkflowInstance, task.instance_id)
            for person in session.exec(select(Person).where(Person.employee_no == "sup01")):
                actions = action_links.link_actions(session, instance, task, person, registry)
                if actions and instance is not None:
                    spec = registry.compiled(session, instance.definition_id).spec
                    token = action_links.mint(session, person=person, task=task,
                                              instance=instance, action=actions[0], spec=spec,
                                              now=clock.now(), lifetime=timedelta(days=7))
                    session.commit()
                    return f"/act/{token}"
    pytest.fail("the demo bank has no plan awaiting sup01's signature")


class Crawl:
    """One role in one language: signs in and walks the pages, checking and photographing."""

    def __init__(self, page: Any, role: str, locale: str, folder: Path, seen: set[str],
                 findings: Findings, keys: set[str], typed_words: set[str]) -> None:
        self.page, self.role, self.locale = page, role, locale
        self.folder, self.seen, self.findings = folder, seen, findings
        self.keys, self.typed_words = keys, typed_words

    def visit(self, path: str) -> list[str]:
        """Open one page at phone width, check it, photograph it if new; its links."""
        page = self.page
        response = page.goto(path)
        where = f"{self.role} {self.locale} {path}"
        status = response.status if response else 0
        if status >= 500 or status == 0:
            self.findings.add(where, f"HTTP {status}")
            return []
        info = page.evaluate(WIDTH_AND_NAV)
        self.findings.visited += 1
        if info["scroll"] > info["inner"]:
            self.findings.add(where, f"scrolls sideways: {info['scroll']} px > {info['inner']}"
                                     f" px (too wide: {', '.join(info['wide'])})")
        if info["small"]:
            self.findings.add(where, f"touch targets under 44 px: {info['small']}")
        if info["cramped"]:
            self.findings.add(where, f"one character per line: {info['cramped']}")
        for chart in info["charts"]:
            if chart["small"]:
                self.findings.add(where, f"{chart['id']}: text under 12 px {chart['small']}")
            if chart["clipped"]:
                self.findings.add(where, f"{chart['id']}: labels cut off {chart['clipped']}")
            if chart["empty"]:
                self.findings.add(where, f"{chart['id']}: the table has numbers, the chart none")
        text = info["text"]
        for typed in info["typed"]:  # code a person types: file columns, headers, sign-in names
            text = text.replace(typed, " ")
            keys = set(re.findall(r"[a-z][a-z0-9_]+", typed)) & self.keys
            if keys:
                self.findings.add(where, f"shows internal keys as code {sorted(keys)}")
        leaked = identifiers_in(text, self.locale, self.typed_words)
        if leaked:
            self.findings.add(where, f"shows identifiers {leaked}")
        kind = "/act/{token}" if path.startswith("/act/") else page_kind(path)
        shot_key = f"{self.locale}:{self.role if kind in PER_ROLE else ''}:{kind}"
        if shot_key not in self.seen:
            self.seen.add(shot_key)
            self.photograph(kind)
        return own_pages(info["links"])

    def photograph(self, kind: str) -> None:
        """The page at phone width, then at desktop width (and back to the phone)."""
        who = self.role if kind in PER_ROLE else "any"
        slug = re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "home"
        for width in (PHONE, DESKTOP):
            if width != PHONE:
                self.page.set_viewport_size({"width": width, "height": 900})
            path = self.folder / f"{slug}--{self.locale}--{width}--{who}.png"
            self.page.screenshot(path=str(path), full_page=True)
            self.findings.shots.append(path)
        self.page.set_viewport_size({"width": PHONE, "height": 844})

    def walk(self) -> None:
        """Every navigation page, then one page of each kind they link to."""
        self.page.goto("/tasks")
        nav = own_pages(self.page.eval_on_selector_all(
            "header a[href]", "links => links.map(a => a.getAttribute('href'))"))
        kinds = {page_kind(path) for path in nav}
        followed: list[str] = []
        for path in dict.fromkeys(nav):
            for link in self.visit(path):
                kind = page_kind(link)
                if kind not in kinds:
                    kinds.add(kind)
                    followed.append(link)
        for link in followed:
            self.visit(link)


# Pages whose content depends on who reads them: photographed for every role.
PER_ROLE = {"/tasks"}


@pytest.fixture(scope="module")
def crawl_folder(artifacts: Path) -> Path:
    """tests/e2e/artifacts/pages/, emptied first (the pictures of this run only)."""
    folder = artifacts / "pages"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


def test_every_page_fits_a_phone_and_shows_no_identifiers_for_every_role_in_both_languages(
        live: Live, browser: Any, crawl_folder: Path) -> None:
    clock.freeze(SEEDED_AT.replace(hour=10))  # the demo bank's today, as a visitor finds it
    findings, seen = Findings(), set()
    keys, numbers = known_keys(live), typed_words(live)
    act_path = link_page(live)
    for locale, accept in LANGUAGES.items():
        context = browser.new_context(locale=accept, base_url=live.url,
                                      viewport={"width": PHONE, "height": 844})
        context.set_default_timeout(10_000)
        try:
            page = context.new_page()
            signed_out = Crawl(page, "signed-out", locale, crawl_folder, seen, findings, keys, numbers)
            signed_out.visit(f"/login?lang={locale}")
            signed_out.visit(act_path)
            for role, number in ROLES.items():
                context.clear_cookies()
                page.goto(f"/login?lang={locale}")
                page.locator("#username").fill(number)
                page.locator("#password").fill(PASSWORD)
                page.locator("form:has(#username) button[type=submit]").click()
                page.wait_for_url(re.compile(r"/tasks"))
                Crawl(page, role, locale, crawl_folder, seen, findings, keys, numbers).walk()
        finally:
            context.close()
    (crawl_folder / "findings.txt").write_text("\n".join(findings.problems), encoding="utf-8")
    assert findings.visited > 100
    assert not findings.problems, "\n".join(findings.problems)
