"""Test fixtures: every database test runs on SQLite and on PostgreSQL, each test isolated."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app import clock
from app.db import make_engine
from app.engine import calendar, runtime
from app.engine.registry import Registry
from app.models import load_all_models
from app.reminders import hooks as reminder_hooks

PROJECT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "STEPWISE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

load_all_models()
# Every process of the app connects reminders to the engine at start-up; so do the tests, once,
# so that a test sees the same behaviour whichever test ran before it.
reminder_hooks.install()


def _pg_admin() -> Engine:
    return make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with _pg_admin().connect() as conn:
            conn.execute(sa.text("select 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any connection failure means unavailable
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    problem = pg_available()
    if problem:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests may not be skipped)")
        pytest.skip(message)
    name = f"stepwise_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
        hide_password=False
    )
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on."""
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> str:
    """The URL of an empty database of the current backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'stepwise.db'}"
    return request.getfixturevalue("pg_database_url")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database with the full schema."""
    eng = make_engine(database_url)
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()


def _wipe(eng: Engine) -> None:
    """Empty every table, children first (DELETE: TRUNCATE of ~50 tables costs over a second)."""
    with eng.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    calendar.forget_shared()  # the rows went without the ORM seeing them


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session on a clean database; whatever the test wrote is wiped afterwards."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        _wipe(engine)


@pytest.fixture(scope="session")
def workflows_dir() -> Path:
    """The project's workflow definitions."""
    return PROJECT / "workflows"


@pytest.fixture
def registry(workflows_dir: Path) -> Iterator[Registry]:
    """The engine's registry over the project's workflows."""
    reg = Registry(workflows_dir)
    reg.load()
    runtime.set_registry(reg)
    yield reg


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """Every test starts and ends on the system clock."""
    clock.reset()
    yield
    clock.reset()


# --- Web: the app on the test database, a browser-like client, signing in --------------------

WEB_SECRET = "test-secret-key-for-signed-cookies-only"
DEMO_PASSWORD = "demo"


def _compile_catalogues() -> None:
    """Compile app/locale/*.po to .mo when missing or stale (as `scripts/i18n.sh compile`)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from app import i18n

    for po_path in (PROJECT / "app" / "locale").glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
    i18n.translations.cache_clear()
    i18n.gettext_for.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues() -> None:
    """Tests see the translations a deployed app sees."""
    _compile_catalogues()


@pytest.fixture
def app_settings(tmp_path: Path, workflows_dir: Path, database_url: str):  # noqa: ANN201
    """Settings of the web app under test (override in a module to change workflows/demo)."""
    from app.config import Settings

    return Settings(
        environment="test",
        database_url=database_url,
        secret_key=WEB_SECRET,
        var_dir=tmp_path / "var",
        workflows_dir=workflows_dir,
        default_locale="zh_CN",
        demo_mode=False,
        scheduler_enabled=False,
    )


@pytest.fixture
def app(app_settings, engine: Engine):  # noqa: ANN001, ANN201
    """The FastAPI app on the test database (registry installed, definitions synced)."""
    from app.main import create_app

    return create_app(app_settings, engine)


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    """A client that keeps cookies like a browser; start-up and shutdown hooks run."""
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def demo_password_hash() -> str:
    """One argon2 hash of the demo password, shared by every test person (hashing is slow)."""
    from app.auth.passwords import hash_password

    return hash_password(DEMO_PASSWORD)


def csrf_from(client) -> str:  # noqa: ANN001
    """The client's session CSRF token (from /api/me when signed in, else the sign-in form)."""
    import re

    me = client.get("/api/me")
    if me.status_code == 200:
        return me.json()["csrf_token"]
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the sign-in page carries no CSRF token"
    return match.group(1)


@pytest.fixture
def csrf():  # noqa: ANN201
    """csrf(client) -> the session's CSRF token, for posting forms and API writes."""
    return csrf_from


@pytest.fixture
def login(db: Session, demo_password_hash: str):  # noqa: ANN201
    """login(client, person, password="demo"): sign in through the form (sets the hash if none)."""

    def _login(client, person, password: str = DEMO_PASSWORD):  # noqa: ANN001, ANN202
        if person.password_hash is None:
            from app.auth.passwords import hash_password

            person.password_hash = (
                demo_password_hash if password == DEMO_PASSWORD else hash_password(password)
            )
            db.add(person)
            db.commit()
        response = client.post(
            "/login",
            data={"username": person.employee_no, "password": password,
                  "csrf_token": csrf_from(client)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return response

    return _login
