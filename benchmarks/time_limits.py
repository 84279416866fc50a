"""Time limits that hold: wall time of time-limited exact runs at 10^6 rows against the limit.

Every run solves one instance (``synthetic_profits(n, m, family, seed)``, default the noisy
10^6 x 101 of issue 13) at ``K`` with ``cm.solve(P, K, "exact", time_limit=T)`` for each T,
timed wall clock around ``cm.solve`` (the profit matrix is built once, outside the timing).
A run passes when it returns within ``T + max(1 s, 5 % of T)``, has a bound at least its
objective (``Solution.check``) and a status ``optimal`` or ``feasible``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/time_limits.py
    .venv/bin/python benchmarks/time_limits.py --n 200000 --limits 1,2,5

Appends one JSON line per run to ``benchmarks/results/time_limits.jsonl`` and rewrites
``benchmarks/results/time_limits.md`` from the lines of this run.
"""

# ruff: noqa: E402  (OMP_NUM_THREADS must be set before numpy loads)
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime
import json
import subprocess
import sys
import time

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, markdown_table, versions

import coarse_mip as cm
from coarse_mip.datasets import synthetic_profits


def allowed(limit: float) -> float:
    """The overrun the issue allows: max(1 s, 5 %)."""
    return limit + max(1.0, 0.05 * limit)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--m", type=int, default=101)
    ap.add_argument("--family", default="noisy")
    ap.add_argument("--K", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limits", default="5,20", help="comma-separated time limits in seconds")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    t0 = time.perf_counter()
    P = synthetic_profits(args.n, args.m, args.family, seed=args.seed)
    print(f"{args.family} {args.n} x {args.m}: built in {time.perf_counter() - t0:.1f} s", flush=True)
    rows = []
    for limit in (float(x) for x in args.limits.split(",")):
        t0 = time.perf_counter()
        sol = cm.solve(P, args.K, "exact", time_limit=limit)
        elapsed = time.perf_counter() - t0
        sol.check(P, args.K)
        row = {"instance": f"{args.family} {args.n}x{args.m} seed {args.seed}", "K": args.K,
               "time_limit": limit, "elapsed_s": round(elapsed, 2), "allowed_s": allowed(limit),
               "holds": elapsed <= allowed(limit) and sol.status in ("optimal", "feasible"),
               "status": sol.status, "gap": sol.gap, "objective": sol.objective, "bound": sol.bound,
               "finish": sol.stats.get("finish"), "commit": commit,
               "date": datetime.date.today().isoformat(), **versions()}
        print(json.dumps({k: row[k] for k in ("time_limit", "elapsed_s", "holds", "status", "gap")}),
              flush=True)
        rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "time_limits.jsonl", "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    df = pd.DataFrame(rows)[["instance", "K", "time_limit", "elapsed_s", "allowed_s", "holds",
                             "status", "gap", "commit"]]
    (RESULTS / "time_limits.md").write_text(
        "# Time limits at scale\n\n`" + " ".join(["benchmarks/time_limits.py", *(argv or sys.argv[1:])])
        + "`\n\n" + markdown_table(df) + "\n")
    return 0 if all(r["holds"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
