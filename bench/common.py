"""What every benchmark shares: the scale, scratch databases, a bank of any size, timing, stats.

Rule 10 of DESIGN.md: performance is measured beside a baseline in the same run; nothing here
asserts a timing. Every size goes through `scaled()`, so BENCH_SCALE shrinks the whole suite.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
BENCH_DIR = PROJECT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
WORKFLOWS = PROJECT / "workflows"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
PLAN_STEPS = [  # the 8 human steps both engines walk: (trigger, who acts)
    ("record_gap", "employee"),
    ("analyse_causes", "employee"),
    ("choose_methods", "employee"),
    ("draft_plan", "employee"),
    ("propose", "employee"),
    ("sign", "employee"),
    ("sign", "supervisor"),
    ("begin", "employee"),
]


def scaled(full: int, minimum: int = 1) -> int:
    """A size at the current BENCH_SCALE, never below a minimum that keeps the figure sane."""
    return max(minimum, int(round(full * SCALE)))


# --- timing and statistics -----------------------------------------------------------------


def now_s() -> float:
    """A monotonic clock in seconds."""
    return time.perf_counter()


def pct(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; nan for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(samples: list[float]) -> float:
    """The median, nan for no samples."""
    return statistics.median(samples) if samples else float("nan")


@dataclass
class Figure:
    """One line of the results table: a measurement beside its same-run baseline."""

    item: str  # the point, e.g. "1"
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None  # value / baseline, oriented so that higher is better
    goal: str = ""
    met: bool | None = None
    note: str = ""
    samples: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


def write_part(name: str, figures: list[Figure], extra: dict[str, Any] | None = None) -> Path:
    """Write one benchmark's figures to bench/results/parts/NAME.json (run.py merges them;
    BENCH_PARTS names another folder, for runs kept apart from the quick run's parts)."""
    out = RESULTS_DIR / os.environ.get("BENCH_PARTS", "parts")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    payload = {"bench": name, "scale": SCALE, "figures": [f.as_dict() for f in figures],
               "extra": extra or {}}
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False, default=str))
    return path


def log(msg: str) -> None:
    """Progress on stderr, timestamped (the suite runs for minutes)."""
    import sys

    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the machine -----------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """nproc, CPU model, RAM, PostgreSQL and Python versions: the table's context."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    ram = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = int(line.split()[1]) * 1024
    except OSError:
        pass
    pg = ""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            pg = conn.execute("select version()").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - the table says what was not found
        pg = f"unavailable ({exc})"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(ram / 2**30, 1),
        "postgresql": pg.split(" on ")[0],
        "python": platform.python_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "git": _git_head(),
    }


def _git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


# --- scratch databases -----------------------------------------------------------------------


def _with_db(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


@contextmanager
def scratch_pg(tag: str) -> Iterator[str]:
    """A fresh PostgreSQL database (psycopg URL) for one benchmark, dropped afterwards."""
    import psycopg

    name = f"stepwise_bench_{tag}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(PG_ADMIN_URL, name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sa_url(url: str) -> str:
    """The SQLAlchemy URL of a psycopg/libpq URL."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_schema(url: str) -> Any:
    """An engine on the URL with Stepwise's whole schema created."""
    from sqlmodel import SQLModel

    from app.db import make_engine
    from app.models import load_all_models

    load_all_models()
    engine = make_engine(sa_url(url))
    SQLModel.metadata.create_all(engine)
    return engine


@contextmanager
def bare_workflows() -> Iterator[Path]:
    """The improvement-plan workflow without its content guards (they need plan rows), as
    tests/integration/test_engine.py runs it: the engine alone is measured."""
    with tempfile.TemporaryDirectory(prefix="bench_wf_") as tmp:
        wf_dir = Path(tmp)
        shutil.copy(WORKFLOWS / "organisation.yaml", wf_dir)
        text = (WORKFLOWS / "improvement_plan.yaml").read_text(encoding="utf-8")
        bare = "\n".join(line for line in text.splitlines()
                         if not line.strip().startswith("guards:"))
        (wf_dir / "improvement_plan.yaml").write_text(bare, encoding="utf-8")
        yield wf_dir


def install_engine(wf_dir: Path, *, plan_hook: bool = False) -> Any:
    """The engine as a web process has it: the registry, the calendar's due dates and the
    reminder timers hook (the plan domain's hook only with `plan_hook`: most benches write no
    plan rows)."""
    from app import clock
    from app.engine import runtime
    from app.engine.registry import Registry
    from app.reminders import hooks as reminder_hooks

    clock.set_timezone("Asia/Shanghai")
    registry = Registry(wf_dir)
    registry.load()
    runtime.set_registry(registry)
    if not plan_hook:
        runtime.STATE_HOOKS[:] = [h for h in runtime.STATE_HOOKS
                                  if h.__module__ != "app.plans.hooks"]
    reminder_hooks.install()
    return registry


# --- a bank of any size ----------------------------------------------------------------------


@dataclass
class Org:
    """The people of a generated bank, by id."""

    head_office: int
    branches: list[int]
    sub_branches: list[int]
    employees: list[int]  # every employee has a supervisor
    supervisor_of: dict[int, int]
    hr: dict[int, int]  # branch id -> HR person id
    branch_of_unit: dict[int, int]


def build_org(session: Any, *, branches: int, subs_per_branch: int, staff_per_sub: int,
              email: bool = True, password_hash: str | None = None) -> Org:
    """Head office -> branches -> sub-branches; each sub-branch has a head (the supervisor of
    its staff, who reports to the branch president) and staff; HR at every branch."""
    from app.org.models import OrgUnit, Person, RoleAssignment

    counter = iter(range(1, 10**9))

    def unit(code: str, name: str, kind: str, parent: OrgUnit | None) -> OrgUnit:
        row = OrgUnit(code=code, name=name, name_en=name, kind=kind,
                      parent_id=parent.id if parent else None)
        session.add(row)
        session.flush()
        row.path = f"{parent.path if parent else '/'}{row.id}/"
        return row

    def person(unit_row: OrgUnit, post: str, supervisor: int | None) -> int:
        n = next(counter)
        row = Person(employee_no=f"B{n:07d}", name=f"员工{n}", name_en=f"Employee {n}",
                     email=f"b{n}@bank.test" if email else "", org_unit_id=unit_row.id,
                     post=post, supervisor_id=supervisor, password_hash=password_hash)
        session.add(row)
        session.flush()
        return row.id

    ho = unit("HO", "总行", "head_office", None)
    org = Org(ho.id, [], [], [], {}, {}, {})
    for b in range(branches):
        branch = unit(f"BR{b:03d}", f"分行{b}", "branch", ho)
        org.branches.append(branch.id)
        org.branch_of_unit[branch.id] = branch.id
        president = person(branch, "行长", None)
        hr = person(branch, "人力资源部", None)
        session.add(RoleAssignment(person_id=hr, kind="role", name="hr", org_unit_id=branch.id))
        org.hr[branch.id] = hr
        for s in range(subs_per_branch):
            sub = unit(f"SB{b:03d}{s:03d}", f"支行{b}-{s}", "sub_branch", branch)
            org.sub_branches.append(sub.id)
            org.branch_of_unit[sub.id] = branch.id
            head = person(sub, "支行长", president)
            for _ in range(staff_per_sub):
                emp = person(sub, "客户经理", head)
                org.employees.append(emp)
                org.supervisor_of[emp] = head
    session.flush()
    return org


def weekday_today() -> date:
    """Today, or the next Monday on a weekend (deadlines count working days either way)."""
    today = date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7) if today.weekday() >= 5 else today


def run_clients(n: int, target: Callable[..., Any], args_per_client: list[tuple[Any, ...]]
                ) -> list[Any]:
    """Run `target(*args)` in n processes started together; their return values, in order."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    with ctx.Pool(n) as pool:
        return pool.starmap(target, args_per_client[:n])
