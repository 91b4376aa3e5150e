"""The load run's per-route table (throughput, p50, p95, errors against the goals), kept as
bench/results/load-<size>/summary.md and shown in docs/benchmarks.md between markers, so
`make bench` rewriting that file keeps it (bench/report.py reads the summaries back)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import PROJECT, machine_info, sa_url

DOCS = PROJECT / "docs" / "benchmarks.md"
PAGE_GOAL_MS, ACTION_GOAL_MS = 250, 300
COUNTED = ("person", "org_unit", "workflow_instance", "audit_event", "task", "reminder_timer",
           "quarterly_assessment")


def database_counts(url: str) -> dict[str, Any]:
    """Rows of the bank under test (the size the figures belong to)."""
    engine = sa.create_engine(sa_url(url))
    counts: dict[str, Any] = {}
    with engine.connect() as conn:
        for name in COUNTED:
            counts[f"rows_{name}"] = conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar()
        counts["rows_pending_timers"] = conn.execute(sa.text(
            "SELECT count(*) FROM reminder_timer WHERE status = 'pending'")).scalar()
        counts["rows_open_tasks"] = conn.execute(sa.text(
            "SELECT count(*) FROM task WHERE status = 'open'")).scalar()
        counts["database_size"] = conn.execute(sa.text(
            "SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
    engine.dispose()
    return counts


def _ms(value: str) -> str:
    return f"{float(value):.0f}" if value not in ("", "N/A") else "–"


def rows(stats_csv: Path) -> list[dict[str, str]]:
    """Locust's per-route lines (the Aggregated line last)."""
    with stats_csv.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def summary(out: Path, meta: dict[str, Any]) -> str:
    """The markdown section of one run."""
    m = machine_info()
    lines = [
        f"<!-- load:{meta['size']}:begin -->",
        f"## Load: {meta['users']} people at once on the {meta['size']} bank (`make load`"
        + ("" if meta["size"] == "quick" else f" LOAD_SIZE={meta['size']}") + ")",
        "",
        f"- **Date:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  ·  **commit:** {m.get('git', '')}"
        f"  ·  **run:** {meta['minutes']} min of Locust 2 (headless), "
        f"{meta['users']} users arriving one a second, think time 1–4 s",
        f"- **Machine:** {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM; "
        f"{m['postgresql']}, Python {m['python']}; server, PostgreSQL, the scheduler and "
        "Locust all on it; load average "
        f"{meta.get('load_average_before', ['?'])[0]} before the run, "
        f"{meta.get('load_average_after', ['?'])[0]} after (whatever else runs on the "
        "machine takes its share of the same two cores)",
        f"- **Server:** `stepwise serve --workers 2` with the scheduler off in the workers "
        f"(`STEPWISE_SCHEDULER_ENABLED=false`) and `stepwise scheduler` as its own process "
        f"(reminder sweep, quiet hours off as in office hours, mail to an SMTP sink on loopback: "
        f"{meta['mail_sent']} messages delivered during the run)",
        f"- **Bank:** {meta['rows_person']:,} people, {meta['rows_org_unit']:,} units, "
        f"{meta['rows_workflow_instance']:,} plans, {meta['rows_audit_event']:,} audit events, "
        f"{meta['rows_task']:,} tasks ({meta['rows_open_tasks']:,} open), "
        f"{meta['rows_reminder_timer']:,} timers ({meta['rows_pending_timers']:,} pending), "
        f"{meta['rows_quarterly_assessment']:,} quarterly results; database "
        f"{meta['database_size']}"
        + (f"; seeded in {meta['seed_seconds']:.0f} s" if meta.get("seed_seconds") else ""),
        f"- **Raw:** `bench/results/load-{meta['size']}/locust_*.csv` (Locust's own files), "
        f"`run.json`",
        "",
        "| Route | Kind | Requests | Req/s | p50 ms | p95 ms | p99 ms | Max ms | Errors | "
        "Goal p95 | Met | Alone ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    alone = _alone(out)
    missed = []
    for row in rows(out / "locust_stats.csv"):
        name = row["Name"]
        if name == "Aggregated":
            kind, goal = "all", None
        else:
            kind = "action" if row["Type"] == "POST" else "page"
            goal = ACTION_GOAL_MS if kind == "action" else PAGE_GOAL_MS
        p95 = row["95%"]
        errors = int(row["Failure Count"])
        met = "" if goal is None else (
            "✓" if p95 not in ("", "N/A") and float(p95) <= goal and not errors else "✗")
        if met == "✗":
            missed.append(name)
        label = name if row["Type"] in name else f"{row['Type']} {name}".strip()
        lines.append(
            f"| {label} | {kind} | {int(row['Request Count']):,} | "
            f"{float(row['Requests/s']):.2f} | {_ms(row['50%'])} | {_ms(p95)} | "
            f"{_ms(row['99%'])} | {_ms(row['Max Response Time'])} | {errors} | "
            f"{'' if goal is None else f'≤ {goal}'} | {met} | {alone.get(name, '')} |")
    failures = out / "locust_failures.csv"
    failed = rows(failures) if failures.exists() else []
    lines += ["", "*Alone*: the route's median over 5 requests made one at a time after the run "
              "(the slowest of the people who open it; `solo.json`, profiles in `profiles/`): "
              "the service time under the figures, the rest is waiting for a share of the two "
              "cores.",
              "", f"Goals: every page p95 ≤ {PAGE_GOAL_MS} ms, every action p95 ≤ "
              f"{ACTION_GOAL_MS} ms, no errors. "
              + (f"Missed: {', '.join(missed)} (causes below)." if missed else
                 "All met (what made the difference: below).")]
    if failed:
        lines += ["", "Errors by kind (locust_failures.csv):", ""]
        lines += [f"- {r['Method']} {r['Name']}: {r['Occurrences']} × {r['Error'][:160]}"
                  for r in failed]
    causes = out / "causes.md"
    if causes.exists():
        lines += ["", causes.read_text(encoding="utf-8").rstrip()]
    lines.append(f"<!-- load:{meta['size']}:end -->")
    return "\n".join(lines) + "\n"


def _alone(out: Path) -> dict[str, str]:
    """Each route's median when requested alone (the slowest person's), from solo.json."""
    path = out / "solo.json"
    if not path.exists():
        return {}
    found: dict[str, float] = {}
    for entry in json.loads(path.read_text(encoding="utf-8")):
        found[entry["route"]] = max(found.get(entry["route"], 0.0), entry["median_ms"])
    return {route: f"{ms:.0f}" for route, ms in found.items()}


def update_docs(out: Path, meta: dict[str, Any]) -> str:
    """Write the run's summary beside its CSVs and into docs/benchmarks.md; the summary."""
    text = summary(out, meta)
    (out / "summary.md").write_text(text, encoding="utf-8")
    DOCS.write_text(with_section(DOCS.read_text(encoding="utf-8"), meta["size"], text),
                    encoding="utf-8")
    return text


def with_section(document: str, size: str, section: str) -> str:
    """The document with this size's load section replaced, or added at the end."""
    begin, end = f"<!-- load:{size}:begin -->", f"<!-- load:{size}:end -->"
    if begin in document and end in document:
        head, rest = document.split(begin, 1)
        return head + section.rstrip("\n") + rest.split(end, 1)[1]
    return document.rstrip("\n") + "\n\n" + section


def saved_sections() -> list[str]:
    """Every kept load summary, for bench/report.py to append when it rewrites the docs."""
    return [path.read_text(encoding="utf-8").rstrip()
            for path in sorted((PROJECT / "bench" / "results").glob("load-*/summary.md"))]


if __name__ == "__main__":  # re-render the docs from a kept run: python -m bench.load.table quick
    import sys

    folder = PROJECT / "bench" / "results" / f"load-{sys.argv[1]}"
    print(update_docs(folder, json.loads((folder / "run.json").read_text(encoding="utf-8"))))
