"""Every page, as every demo role, in both languages, on a phone: one crawl of the navigation.

For each role and language one browser context signs in and visits every page its navigation
leads to, and one page of each kind those pages link to (a plan, a case, a promotion case, a
person's results...). At 390 px no page may scroll sideways, and no page may show a word a
person did not type: a scheme id, a workflow id, a grade key, a state or action name. The
first time a kind of page is seen in a language it is kept as a screenshot at 390 px and at
1280 px under tests/e2e/artifacts/pages/ (named page--language--width--role.png), to be looked
at page by page.
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
from tests.e2e.conftest import SEEDED_AT, Live, sign_in
from tests.links import emailed_link

PHONE, DESKTOP = 390, 1280

# One demo person for each side of the process the sign-in page offers (app/auth/views.py):
# each sees a different navigation and different pages behind it.
ROLES: dict[str, str] = {
    "employee": "cm01",
    "supervisor": "sup01",
    "hr": "hr02",
    "department-reviewer": "pf01",
    "committee": "vp01",
    "chief-accountant": "acc01",
    "filing": "file01",
    "administrator": "admin",
}
LANGUAGES = {"zh_CN": "zh-CN", "en": "en-US"}

# Links that are not pages to read: downloads, feeds, the API, signing out, switching language.
NOT_A_PAGE = re.compile(r"\.(xlsx|csv|ics|svg|pdf|json|zip)$|/dossier$"
                        r"|^/(api|docs|redoc|openapi|logout|act/)|/(files|evidence|attachments)/")
# A page "kind": its path with every number replaced, so one plan stands for all plans.
NUMBER = re.compile(r"/\d+(?=/|$)")

# Words on a page that no person typed: snake_case keys (improvement_plan, corp_grade,
# senior_cm, bocom_private_finance_2002 ...).
SNAKE_CASE = re.compile(r"(?<![\w@./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
# On a Chinese page, Latin abbreviations and codes that have Chinese words (Q4, CNY, a grade
# key such as "cm") are identifiers too; names of products and formats are not.
LATIN_WORD = re.compile(r"(?<![\w@./:-])[A-Za-z][A-Za-z]*[0-9]*(?![\w@/-])")
SHORTCUT = re.compile(r"\b(?:Ctrl|Cmd|Alt|Shift)\+[A-Z0-9]\b")
# Word (beside Excel) and MB are how Chinese office software itself names them ("Word 文档",
# "5 MB"): a bank employee reads them as words, not codes.
LATIN_ALLOWED = {"Stepwise", "English", "Excel", "Word", "CSV", "ICS", "iCalendar", "API", "PDF",
                 "SVG", "URL", "HTTP", "HTTPS", "JSON", "SHA", "Outlook", "PNG", "XLSX", "MB"}

# What the crawl measures on each page (widths, controls, charts, visible text, links).
PAGE_FACTS = (Path(__file__).with_name("page_facts.js")).read_text(encoding="utf-8")


@dataclass
class Site:
    """What every role's crawl shares: the words allowed, the pictures taken, what was wrong."""

    folder: Path
    keys: set[str]  # internal keys of the workflow and scheme files
    typed_words: set[str]  # Latin words people wrote (employee numbers, rule clauses)
    seen: set[str] = field(default_factory=set)  # page kinds photographed, per language
    problems: list[str] = field(default_factory=list)
    visited: int = 0

    def add(self, where: str, what: str) -> None:
        """Note one thing wrong on one page."""
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
    text = SHORTCUT.sub(" ", text)  # keys as printed on a keyboard: Ctrl+P
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
    to sign in: cm01, admin), the clause numbers of the bank's own rules (Q4, A.5), and the
    titles of plans (an English reader's journey earlier in the run titles its plan in English)."""
    from app.plans.models import ImprovementPlan
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
        titles = {word for title in session.exec(select(ImprovementPlan.title))
                  for word in re.findall(r"[A-Za-z]+", title)}
        return words | titles | set(session.exec(select(Person.employee_no)))


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
                    token = emailed_link(session, person=person, task=task,
                                         instance=instance, action=actions[0], spec=spec,
                                         lifetime=timedelta(days=7))
                    session.commit()
                    return f"/act/{token}"
    pytest.fail("the demo bank has no plan awaiting sup01's signature")


class Crawl:
    """One role in one language: walks the pages, checking and photographing them."""

    def __init__(self, page: Any, role: str, locale: str, site: Site) -> None:
        self.page, self.role, self.locale, self.site = page, role, locale, site

    def visit(self, path: str) -> list[str]:
        """Open one page at phone width, check it, photograph it if new; its links."""
        response = self.page.goto(path)
        where = f"{self.role} {self.locale} {path}"
        status = response.status if response else 0
        if status >= 500 or status == 0:
            self.site.add(where, f"HTTP {status}")
            return []
        facts = self.page.evaluate(PAGE_FACTS)
        self.site.visited += 1
        for problem in self.problems(facts):
            self.site.add(where, problem)
        kind = "/act/{token}" if path.startswith("/act/") else page_kind(path)
        if f"{self.locale}:{kind}" not in self.site.seen:
            self.site.seen.add(f"{self.locale}:{kind}")
            self.photograph(kind)
        return own_pages(facts["links"])

    def problems(self, facts: dict[str, Any]) -> Iterable[str]:
        """What a person on a phone would stumble on, from the page's measured facts."""
        if facts["scroll"] > facts["inner"]:
            yield (f"scrolls sideways: {facts['scroll']} px > {facts['inner']} px"
                   f" (too wide: {', '.join(facts['wide'])})")
        if facts["small"]:
            yield f"touch targets under 44 px: {facts['small']}"
        if facts["cramped"]:
            yield f"one character per line: {facts['cramped']}"
        for chart in facts["charts"]:
            if chart["small"]:
                yield f"{chart['id']}: text under 12 px {chart['small']}"
            if chart["clipped"]:
                yield f"{chart['id']}: labels cut off {chart['clipped']}"
            if chart["empty"]:
                yield f"{chart['id']}: the table has numbers, the chart draws none"
        text = facts["text"]
        for typed in filter(str.strip, facts["typed"]):  # code a person types: file columns,
            text = text.replace(typed, " ")  # headers, sign-in names
            keys = set(re.findall(r"[a-z][a-z0-9_]+", typed)) & self.site.keys
            if keys:
                yield f"shows internal keys as code {sorted(keys)}"
        leaked = identifiers_in(text, self.locale, self.site.typed_words)
        if leaked:
            yield f"shows identifiers {leaked}"

    def photograph(self, kind: str) -> None:
        """The page at phone width, then at desktop width (and back to the phone)."""
        slug = re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "home"
        for width in (PHONE, DESKTOP):
            self.page.set_viewport_size({"width": width, "height": 844})
            path = self.site.folder / f"{slug}--{self.locale}--{width}--{self.role}.png"
            self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size({"width": PHONE, "height": 844})

    def walk(self, depth: int = 3) -> None:
        """Every page of the navigation, then one page of each new kind they lead to (a plan,
        its written form, a case, a promotion case...), breadth first, `depth` clicks deep."""
        self.page.goto("/tasks")
        level = list(dict.fromkeys(own_pages(self.page.eval_on_selector_all(
            "header a[href]", "links => links.map(a => a.getAttribute('href'))"))))
        kinds = {page_kind(path) for path in level}
        for _ in range(depth):
            following: list[str] = []
            for path in level:
                for link in self.visit(path):
                    if page_kind(link) not in kinds:
                        kinds.add(page_kind(link))
                        following.append(link)
            level = following


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
    site = Site(crawl_folder, known_keys(live), typed_words(live))
    emailed_link = link_page(live)
    for locale, accept in LANGUAGES.items():
        context = browser.new_context(locale=accept, base_url=live.url,
                                      viewport={"width": PHONE, "height": 844})
        context.set_default_timeout(10_000)
        try:
            page = context.new_page()
            signed_out = Crawl(page, "signed-out", locale, site)
            signed_out.visit(f"/login?lang={locale}")
            signed_out.visit(emailed_link)
            for role, number in ROLES.items():
                context.clear_cookies()
                page.goto(f"/login?lang={locale}")
                sign_in(page, number)
                Crawl(page, role, locale, site).walk()
        finally:
            context.close()
    (crawl_folder / "findings.txt").write_text("\n".join(site.problems), encoding="utf-8")
    assert site.visited > 200
    assert not site.problems, "\n".join(site.problems)
