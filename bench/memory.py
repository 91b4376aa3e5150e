"""Item 6: RSS growth of one process over many transitions, and the number of shared Machines
(one per definition version, DESIGN rule 4) before and after."""

from __future__ import annotations

import gc
from typing import Any

from bench.common import (
    Figure,
    bare_workflows,
    build_org,
    create_schema,
    install_engine,
    log,
    now_s,
    scaled,
    scratch_pg,
    write_part,
)
from bench.workload import engine_walk, start_instances


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def analyze(engine: Any) -> None:
    """What autovacuum does as tables grow (this machine's server runs with autovacuum off):
    fresh statistics, so cached plans made while the tables were empty are planned again."""
    from sqlalchemy import text

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def main() -> None:
    from sqlmodel import Session
    from transitions import Machine

    from app.engine.registry import compiled_count

    transitions = scaled(100_000, 2_000)
    lifecycles = max(1, transitions // 8)
    batch = 50
    curve: list[tuple[int, float]] = []
    with scratch_pg("memory") as url, bare_workflows() as wf_dir:
        engine = create_schema(url)
        registry = install_engine(wf_dir)
        with Session(engine) as session:
            org = build_org(session, branches=4, subs_per_branch=5, staff_per_sub=10)
            registry.sync(session)
            session.commit()
        # warm-up: caches, compiled statements, the pool
        engine_walk(engine, start_instances(engine, org, 20))
        gc.collect()
        machines_before = compiled_count()
        machine_objects_before = sum(isinstance(o, Machine) for o in gc.get_objects())
        rss0 = rss_mb()
        curve.append((0, rss0))
        done, t0 = 0, now_s()
        while done < lifecycles:
            n = min(batch, lifecycles - done)
            lcs = start_instances(engine, org, n, offset=done)
            engine_walk(engine, lcs)
            done += n
            curve.append((done * 8, rss_mb()))
            if done % (batch * 10) == 0:
                log(f"memory: {done * 8} transitions, RSS {curve[-1][1]:.1f} MB")
                analyze(engine)
        gc.collect()
        rss1 = rss_mb()
        machines_after = compiled_count()
        machine_objects_after = sum(isinstance(o, Machine) for o in gc.get_objects())
        elapsed = now_s() - t0
        engine.dispose()
    growth = rss1 - rss0
    extra: dict[str, Any] = {"transitions": done * 8, "rss_curve_mb": curve,
                             "seconds": elapsed, "rss_start_mb": rss0, "rss_end_mb": rss1}
    figures = [
        Figure("6", f"RSS growth over {done * 8:,} transitions (one process)", growth, "MB",
               None, "", None, "≤ 20 MB", growth <= 20,
               f"{rss0:.1f} → {rss1:.1f} MB after warm-up"
               + ("" if done * 8 >= 100_000 else "; fewer than 100,000 at this BENCH_SCALE")),
        Figure("6", "Shared Machines (compiled_count) before → after", float(machines_after),
               "machines", float(machines_before), "before the run", None,
               "constant", machines_after == machines_before
               and machine_objects_after == machine_objects_before,
               f"transitions.Machine objects on the heap: {machine_objects_before} → "
               f"{machine_objects_after}"),
    ]
    write_part("memory", figures, extra)


if __name__ == "__main__":
    main()
