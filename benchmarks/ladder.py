"""The single-peaked DP (formulations/ladder.md) against the Benders engine on the same matrix.

For each K, one matrix ``synthetic_profits(n, m, "smooth", seed, noise)`` (default 10^6 x 101,
noise 0: every row is single-peaked) is solved twice, timed wall clock around ``cm.solve``:
``formulation="auto"`` (which takes the DP when every row is single-peaked) and
``formulation="benders"`` (the engine before the DP existed). The two objectives must agree to
1e-9 relative, both with status optimal. With ``--noise 0.02`` (the family's default) most but
not all rows are single-peaked: ``auto`` falls through to Benders after the detection pass,
whose cost is reported as the difference.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ladder.py
    .venv/bin/python benchmarks/ladder.py --n 100000 --K 2,5,10 --noise 0.02

Appends one JSON line per run to ``benchmarks/results/ladder.jsonl`` and rewrites
``benchmarks/results/ladder.md`` from the lines of this run.
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

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, markdown_table, versions

import coarse_mip as cm
from coarse_mip.datasets import synthetic_profits
from coarse_mip.kernels import peaks


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--m", type=int, default=101)
    ap.add_argument("--K", default="5", help="comma-separated menu sizes")
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=600.0, help="per Benders run")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    P = synthetic_profits(args.n, args.m, "smooth", seed=args.seed, noise=args.noise)
    share = float((peaks(P, probe=False) >= 0).mean())
    instance = f"smooth {args.n}x{args.m} noise {args.noise} seed {args.seed}"
    print(f"{instance}: {100 * share:.2f} % of rows single-peaked", flush=True)
    rows = []
    for K in (int(k) for k in args.K.split(",")):
        runs = {}
        for formulation in ("auto", "benders"):
            t0 = time.perf_counter()
            sol = cm.solve(P, K, "exact", formulation=formulation, time_limit=args.time_limit)
            runs[formulation] = (time.perf_counter() - t0, sol)
            sol.check(P, K)
        (t_auto, auto), (t_benders, benders) = runs["auto"], runs["benders"]
        agree = bool(np.isclose(auto.objective, benders.objective, rtol=1e-9, atol=0.0))
        row = {"instance": instance, "K": K, "single_peaked_share": share,
               "auto_formulation": auto.stats["formulation"], "auto_s": round(t_auto, 2),
               "auto_status": auto.status, "benders_s": round(t_benders, 2), "benders_status": benders.status,
               "speedup": round(t_benders / t_auto, 1), "objectives_agree": agree,
               "objective": auto.objective, "benders_objective": benders.objective, "menu": list(auto.treatments),
               "commit": commit, "date": datetime.date.today().isoformat(), **versions()}
        print(json.dumps({k: row[k] for k in ("K", "auto_formulation", "auto_s", "benders_s", "speedup",
                                              "objectives_agree")}), flush=True)
        rows.append(row)
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "ladder.jsonl", "a") as f:
        for row in rows:
            f.write(json.dumps(row, default=str) + "\n")
    df = pd.DataFrame(rows)[["instance", "K", "single_peaked_share", "auto_formulation", "auto_s", "auto_status",
                             "benders_s", "benders_status", "speedup", "objectives_agree", "commit"]]
    (RESULTS / "ladder.md").write_text(
        "# Single-peaked DP against Benders\n\n`" + " ".join(["benchmarks/ladder.py", *(argv or sys.argv[1:])])
        + "`\n\n" + markdown_table(df) + "\n")
    return 0 if all(r["objectives_agree"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
