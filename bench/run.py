"""`make bench`: run every benchmark (each in its own process), merge their figures into
bench/results/latest.json (raw samples kept) and write docs/benchmarks.md.

    BENCH_SCALE=0.02 python -m bench.run            # the quick run (< 15 min on 2 cores)
    BENCH_SCALE=1 python -m bench.run               # full scale
    python -m bench.run --only engine_postgresql peer
    BENCH_SCALE=1 python -m bench.run --only scheduler dashboard memory --save-as full-scale

`--save-as NAME` keeps the run apart: bench/results/NAME.json (its parts in parts-NAME/), shown
in docs/benchmarks.md as its own table beside latest.json's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.common import PROJECT, RESULTS_DIR, SCALE, log, machine_info
from bench.report import write_markdown

BENCHES = {  # name -> module arguments
    "engine_postgresql": ["bench.engine", "--backend", "postgresql"],
    "engine_sqlite": ["bench.engine", "--backend", "sqlite"],
    "peer": ["bench.peer"],
    "web": ["bench.web"],
    "scheduler": ["bench.scheduler"],
    "dashboard": ["bench.dashboard"],
    "memory": ["bench.memory"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES))
    parser.add_argument("--save-as", metavar="NAME", default="latest",
                        help="results file bench/results/NAME.json (default: latest)")
    args = parser.parse_args()
    names = args.only or list(BENCHES)
    parts_name = "parts" if args.save_as == "latest" else f"parts-{args.save_as}"
    parts = RESULTS_DIR / parts_name
    parts.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(PROJECT), BENCH_SCALE=str(SCALE),
               BENCH_PARTS=parts_name)
    started = time.time()
    runs = {}
    for name in names:
        (parts / f"{name}.json").unlink(missing_ok=True)
        log(f"== {name} (BENCH_SCALE={SCALE})")
        t0 = time.time()
        proc = subprocess.run([sys.executable, "-m", *BENCHES[name]], cwd=PROJECT, env=env)
        runs[name] = {"exit": proc.returncode, "seconds": round(time.time() - t0, 1)}
        if proc.returncode != 0:
            log(f"!! {name} failed with exit code {proc.returncode}")
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "scale": SCALE,
        "machine": machine_info(),
        "runs": runs,
        "seconds": round(time.time() - started, 1),
        "benches": {},
    }
    for name in BENCHES:  # keep earlier parts of benches not run this time, marked so
        path = parts / f"{name}.json"
        if path.exists():
            part = json.loads(path.read_text())
            part["this_run"] = name in names
            results["benches"][name] = part
    out = RESULTS_DIR / f"{args.save_as}.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    latest_path = RESULTS_DIR / "latest.json"
    latest = json.loads(latest_path.read_text()) if latest_path.exists() else results
    md = write_markdown(latest, PROJECT / "docs" / "benchmarks.md")
    log(f"wrote {out.relative_to(PROJECT)} and {md.relative_to(PROJECT)} "
        f"in {results['seconds']:.0f} s")
    if any(r["exit"] for r in runs.values()):
        sys.exit(1)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
