"""Where the reminder sweep's time goes: item 4's delivery, in-process, phase by phase.

    .venv/bin/python -m bench.profile_delivery [--due 1000] [--total 50000] [--cprofile]

The same database, timers and SMTP sink as bench/scheduler.py `bench_scale` (its own setup is
reused), then one sweep with each phase's wall time noted (plan and cancel, fire the timers,
digests, deliver the outbox), the plain smtplib loop beside it, and the ratio bench_scale
reports. `--cprofile` prints the sweep's top functions by cumulative and own time. Prints;
asserts nothing. `--no-sync-commit` measures what the durable commit of each message's
record costs (an experiment: the app never turns durability off).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
from datetime import UTC, datetime
from typing import Any

from bench.common import now_s, scratch_pg
from bench.scheduler import populate_timers, scheduler_bank, sink_settings, smtplib_baseline
from bench.servers import SmtpCounter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--total", type=int, default=50_000)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--no-sync-commit", action="store_true",
                        help="an experiment, never the app's setting: commits on the scratch "
                        "database do not wait for the disk (what durability costs)")
    args = parser.parse_args()


    from app.reminders import sweep as sweep_module

    phases: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapped(*a: Any, **kw: Any) -> Any:
            t0 = now_s()
            try:
                return fn(*a, **kw)
            finally:
                phases[name] = phases.get(name, 0.0) + now_s() - t0
        return wrapped

    for name in ("schedule_open_tasks", "fire_due_timers", "build_digests", "deliver_outbox"):
        setattr(sweep_module, name, timed(name, getattr(sweep_module, name)))
    # inside the delivery: claiming and writing, building MIME, the SMTP exchange, recording
    from app.notifications import delivery, mailer

    for name in ("_prepare", "build_message", "_release"):
        setattr(delivery, name, timed(f"  {name}", getattr(delivery, name)))
    mailer.SmtpMailer.send = timed("  SmtpMailer.send", mailer.SmtpMailer.send)
    delivery._note_outcome = timed("  _note_outcome", delivery._note_outcome)

    with scratch_pg("profdeliv") as url:
        engine, registry, org, definition_id = scheduler_bank(url)
        now = datetime.now(UTC)
        populate_timers(url, org, definition_id, args.total, args.due, now)
        if args.no_sync_commit:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SELECT set_config('synchronous_commit', 'off', false)")
                conn.execute("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET "
                             "synchronous_commit = off', current_database()); END $$")
            engine.dispose()  # new connections take the setting
        sink = SmtpCounter()
        sink.start()
        try:
            settings = sink_settings(sink, url)
            profiler = cProfile.Profile() if args.cprofile else None
            t0 = now_s()
            if profiler:
                profiler.enable()
            report = sweep_module.sweep(engine, now, settings=settings, registry=registry)
            if profiler:
                profiler.disable()
            sweep_s = now_s() - t0
            received, distinct = sink.count()
            base_s, base_n = smtplib_baseline(url, sink)
        finally:
            sink.stop()
        engine.dispose()
    rate, base = report.sent / sweep_s, base_n / base_s
    print(f"sweep: sent {report.sent} in {sweep_s:.2f} s = {rate:.0f}/s "
          f"(queued {report.queued}, obsolete {report.obsolete}, errors {report.errors[:2]}); "
          f"sink {received} received, {distinct} distinct")
    print(f"smtplib: {base_n} in {base_s:.2f} s = {base:.0f}/s; ratio {rate / base:.3f}")
    for name, seconds in phases.items():
        print(f"  {name:22} {seconds:7.2f} s  {seconds / sweep_s:5.1%}")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("cumulative").print_stats("/app/", 40)
        stats.sort_stats("tottime").print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    main()
