"""Browser journeys: the real app under uvicorn on loopback, Debian's Chromium, a real SMTP sink.

One server per test session, in a thread of this process, so that the tests move the one clock
(app.clock) the server reads and run the scheduler's sweep themselves. The database is a fresh
SQLite file seeded with the demo bank; mail goes to an aiosmtpd server on 127.0.0.1.
Without Chromium the journeys are skipped with a notice; under CI=true that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, SQLModel

from app import clock
from app.config import Settings
from app.db import make_engine
from app.reminders.sweep import SweepReport, sweep
from tests.smtp_sink import SmtpSink, free_port

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SEEDED_AT = datetime(2026, 3, 2, 9, 0)  # the demo bank's "today" (a Monday)
PASSWORD = "demo"
ACTION_LINK = re.compile(r"https?://[^\s\"'<>]+/act/[A-Za-z0-9_\-]+")

_skip_notice: list[str] = []


def chromium_path() -> str | None:
    """Debian's Chromium, or another one named by STEPWISE_CHROMIUM."""
    for candidate in (os.environ.get("STEPWISE_CHROMIUM", ""), *CHROMIUM_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def browser_problem() -> str | None:
    """None when the journeys can run, else what is missing."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return ("Chromium is not installed (run `make setup` as root, or "
                "`apt-get install -y chromium fonts-wqy-microhei`)")
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip (or, under CI, fail) every browser test when the browser cannot run."""
    problem = browser_problem()
    if problem is None:
        return
    here = Path(__file__).resolve().parent
    mine = [item for item in items if here in Path(str(item.fspath)).resolve().parents]
    if not mine:
        return
    if IN_CI:
        return  # the browser fixture fails every journey: CI may not skip them
    _skip_notice.append(f"Browser journeys SKIPPED: {problem}")
    for item in mine:
        item.add_marker(pytest.mark.skip(reason=f"browser journeys skipped: {problem}"))


@pytest.fixture(scope="session")
def _browser_required() -> None:
    """Under CI=true a missing browser fails the journeys instead of skipping them."""
    problem = browser_problem()
    if problem:
        pytest.fail(f"CI=true: browser journeys may not be skipped: {problem}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly that the journeys did not run."""
    for line in _skip_notice:
        terminalreporter.write_sep("!", line, yellow=True, bold=True)


# --- the live server -------------------------------------------------------------------------


@dataclass
class Live:
    """The running app: its address, settings, database and the SMTP sink it sends to."""

    url: str
    app: Any
    settings: Settings
    sink: SmtpSink

    @property
    def engine(self):  # noqa: ANN201
        """The server's own database engine."""
        return self.app.state.engine

    def session(self) -> Session:
        """A session on the server's database (for looking things up, never for acting)."""
        return Session(self.engine, expire_on_commit=False)

    def sweep(self, at: datetime) -> SweepReport:
        """Move the clock to a local instant and run the scheduler's sweep, as the job does."""
        clock.freeze(at)
        return sweep(self.engine, settings=self.settings, registry=self.app.state.registry)

    def links_to(self, address: str, about: str | None = None) -> list[str]:
        """Every action link mailed to one address, oldest first; with `about`, only the links
        that follow that text (a case title) in a mail, since the demo bank's own overdue cases
        are mailed to the same people."""
        links: list[str] = []
        for mail in self.sink.to(address):
            text = mail.text
            if about is not None:
                if about not in text:
                    continue
                text = text[text.index(about):]
                following = ACTION_LINK.search(text)
                links.extend([following.group(0)] if following else [])
                continue
            links.extend(ACTION_LINK.findall(text))
        return links


def _seed(settings: Settings) -> None:
    from app.demo import seed_demo
    from app.engine.registry import Registry
    from app.models import load_all_models

    load_all_models()
    engine = make_engine(settings.database_url)
    SQLModel.metadata.create_all(engine)
    registry = Registry(settings.workflows_dir)
    registry.load()
    clock.freeze(SEEDED_AT)
    try:
        with Session(engine) as session:
            seed_demo(session, registry)
            session.commit()
    finally:
        clock.reset()
        engine.dispose()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """uvicorn serving create_app() on a free loopback port, a seeded SQLite file, a mail sink."""
    import uvicorn

    from app.main import create_app

    root = tmp_path_factory.mktemp("e2e")
    sink = SmtpSink()
    sink.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        environment="test", database_url=f"sqlite:///{root / 'stepwise.db'}",
        secret_key="e2e-secret-key-for-signed-cookies-only", var_dir=root / "var",
        base_url=url, default_locale="zh_CN", demo_mode=True, scheduler_enabled=False,
        smtp_host="127.0.0.1", smtp_port=sink.port, smtp_timeout_seconds=5,
        # Every person of every journey comes from one address (as behind a bank's proxy), and
        # the journeys open every emailed link within a minute: the per-address limits are
        # proved in tests/integration, not here.
        rate_limit_action_link_per_minute=10_000, rate_limit_sign_in_per_minute=10_000,
    )
    _seed(settings)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sink.stop()
            raise RuntimeError("the e2e server did not start")
        time.sleep(0.05)
    try:
        yield Live(url, app, settings, sink)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sink.stop()


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(_browser_required: None) -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (its driver only; no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (kept after the run, ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def shot(artifacts: Path, request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """shot(page, name): a full-page screenshot under tests/e2e/artifacts/<test>/<n>-<name>.png."""
    folder = artifacts / request.node.name.removeprefix("test_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    counter = iter(range(1, 1000))

    def _shot(page: Any, name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Keep each phase's report on the item, so fixtures know whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def open_as(browser: Any, live: Live, artifacts: Path,
            request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """open_as(employee_no, locale) -> a signed-in page in a fresh browser context.

    The context's locale sets Accept-Language; a person with no language of their own reads
    the pages in that language.
    """
    contexts: list[Any] = []

    def _open(employee_no: str | None, locale: str = "en-US", width: int = 1280) -> Any:
        context = browser.new_context(locale=locale, base_url=live.url,
                                      viewport={"width": width, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        if employee_no is not None:
            sign_in(page, employee_no)
        return page

    yield _open
    failed = getattr(request.node, "report_call", None)
    for number, context in enumerate(contexts, 1):
        if failed is not None and failed.failed:
            for page in context.pages:  # what each browser showed when the test failed
                name = f"FAILED-{request.node.name.removeprefix('test_')}-{number}.png"
                page.screenshot(path=str(artifacts / name), full_page=True)
        context.close()


def sign_in(page: Any, employee_no: str) -> None:
    """Sign in through the form, as a person types it."""
    page.goto("/login")
    page.locator("#username").fill(employee_no)
    page.locator("#password").fill(PASSWORD)
    page.locator("form:has(#username) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/tasks"))
