"""The noisy CATE-sweep instances that exact left unproven at 60 s, given a longer limit.

``benchmarks/RESULTS.md`` (``heuristic_vs_exact.py --suite cate``, 60 s per instance) leaves seven
``noisy`` instances unproven. This runs exact on exactly those (same generator and seed,
``coarse_mip.datasets.synthetic_profits(n, m, "noisy", seed=0)``) with ``--time-limit``
(default 600 s) and reports status, certified gap and seconds. Each matrix is generated once
for its K values and freed before the next.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cate_unproven.py [--time-limit 600] [--only 1e6]
        [--finish master-mip --out cate_unproven_master_mip]

Appends one JSON line per instance to ``benchmarks/results/<out>.jsonl`` and rewrites
``benchmarks/results/<out>.md`` from the rows of this run.
"""

# ruff: noqa: E402  (OMP_NUM_THREADS must be set before numpy loads)
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime
import gc
import json
import subprocess
import sys
import time

import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, markdown_table, versions

import coarse_mip as cm
from coarse_mip.datasets import synthetic_profits
from coarse_mip.engines.exact import FINISHES

#: (n, m) -> the K values left unproven at 60 s in benchmarks/RESULTS.md.
UNPROVEN = {(10_000, 101): (10,), (100_000, 51): (10,), (100_000, 101): (10,),
            (1_000_000, 51): (5, 10), (1_000_000, 101): (5, 10)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=600.0, help="exact's seconds per instance")
    ap.add_argument("--only", default="", help="comma list of n values to run (default: all)")
    ap.add_argument("--finish", default="auto", choices=FINISHES,
                    help="exact's finish (default: auto)")
    ap.add_argument("--out", default="cate_unproven", help="results file stem under benchmarks/results/")
    args = ap.parse_args(argv)
    only = {int(float(v)) for v in args.only.split(",")} if args.only else None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    RESULTS.mkdir(exist_ok=True)
    rows = []
    for (n, m), Ks in UNPROVEN.items():
        if only is not None and n not in only:
            continue
        P = synthetic_profits(n, m, "noisy", seed=0)
        for K in Ks:
            t0 = time.perf_counter()
            sol = cm.solve(P, K, "exact", time_limit=args.time_limit, seed=0, finish=args.finish)
            row = {"instance": f"noisy n={n} m={m} K={K}", "status": sol.status, "gap_pct": 100 * sol.gap,
                   "objective": sol.objective, "bound": sol.bound, "seconds": round(time.perf_counter() - t0, 2),
                   "finish": sol.stats.get("finish"), "time_limit": args.time_limit, "commit": commit,
                   "date": datetime.date.today().isoformat(), **versions()}
            rows.append(row)
            print(json.dumps({k: row[k] for k in ("instance", "status", "gap_pct", "seconds")}), flush=True)
            with open(RESULTS / f"{args.out}.jsonl", "a") as fh:
                fh.write(json.dumps(row) + "\n")
        del P
        gc.collect()
    table = pd.DataFrame([{"instance": r["instance"], "status": r["status"], "certified gap %": r["gap_pct"],
                           "seconds": r["seconds"], "finish": r["finish"] or ""} for r in rows])
    text = (f"# Noisy CATE-sweep instances unproven at 60 s, exact with a {args.time_limit:g} s limit, "
            f"finish={args.finish}\n\n"
            f"Commit {commit}, `benchmarks/cate_unproven.py`.\n\n" + markdown_table(table) + "\n")
    (RESULTS / f"{args.out}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
