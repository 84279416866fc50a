"""The exact engine on the TSPLIB p-median tables of Duran-Mateluna, Ales & Elloumi (EJOR 2023).

Every row of ``../shared/benchmarks/tsplib-pmedian/dae2023_values.csv`` (instance, p, the
paper's value, status, LP bound and single-thread CPLEX seconds) is solved with
``cm.solve(-D, p, "exact", time_limit=T)`` on the floor-Euclidean distances D (clients = sites
= all nodes, unit weights), timed wall clock around ``cm.solve`` (building D is not timed, as
the paper does not time its sorted distance matrix). A row passes when

* ``optimal`` in the paper: we prove optimality (status optimal) at exactly the paper's value;
* ``best-known``: our value is at most the paper's (costs), with our bound reported.

The ratio is our seconds over the paper's ``total_s`` for rows both proved; their geometric
mean is printed and written. The paper ran one thread of a 3.7 GHz Xeon W-2145; ours is one
process on this 2-core machine (HiGHS threads default).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tsplib.py --instances rl1304,fl1400 --time-limit 300
    .venv/bin/python benchmarks/tsplib.py --instances rl5934 --p 200,300,400 --time-limit 600

Appends one JSON line per row to ``benchmarks/results/<out>.jsonl`` as it goes (a stopped run
keeps what it finished) and rewrites ``benchmarks/results/<out>.md`` from the rows of this run
(``--out``, default ``tsplib``: give a partial run its own name).
"""

# ruff: noqa: E402  (OMP_NUM_THREADS must be set before numpy loads)
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime
import json
import math
import subprocess
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, SHARED, markdown_table, versions

import coarse_mip as cm
from coarse_mip.datasets import floor_euclid, read_tsplib
from coarse_mip.engines.exact import FINISHES

FOLDER = SHARED / "tsplib-pmedian"


def paper_seconds(text: str) -> float | None:
    """The paper's time, None for ``TL(36000)`` (not solved in 10 h) and the like."""
    try:
        return float(text)
    except ValueError:
        return None


def geometric_mean(xs) -> float | None:
    xs = [x for x in xs if x is not None and x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def solve_row(D: np.ndarray, ref: pd.Series, limit: float, finish: str = "auto") -> dict:
    t0 = time.perf_counter()
    sol = cm.solve(-D, int(ref.p), "exact", time_limit=limit, finish=finish)
    elapsed = time.perf_counter() - t0
    value, bound = -sol.objective, -sol.bound                   # costs: value >= bound
    proven = sol.status == "optimal"
    if ref.status == "optimal":
        passed = proven and np.isclose(value, ref.value, rtol=0, atol=0.5)
    else:
        passed = value <= ref.value + 0.5
    paper = paper_seconds(str(ref.total_s))
    both = proven and ref.status == "optimal" and paper is not None
    return {"instance": ref.instance, "p": int(ref.p), "paper_value": float(ref.value),
            "paper_status": ref.status, "paper_lp": float(ref.lp_bound_LB1), "paper_s": paper,
            "ours_value": value, "ours_bound": bound, "status": sol.status, "gap": sol.gap,
            "ours_s": round(elapsed, 2), "ratio": round(elapsed / paper, 3) if both else None,
            "passed": bool(passed), "finish": sol.stats.get("finish"), "bb_nodes": sol.stats.get("bb_nodes"),
            "formulation": sol.stats.get("formulation"), "heuristic_s": sol.stats.get("heuristic_s"),
            "lp_s": sol.stats.get("benders_s"), "lp_bound": sol.stats.get("lp_bound")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="rl1304,fl1400,pcb3038", help="comma-separated names")
    ap.add_argument("--p", default="", help="comma-separated p values (default: every row)")
    ap.add_argument("--time-limit", type=float, default=300.0, help="seconds per row")
    ap.add_argument("--out", default="tsplib", help="results file stem under benchmarks/results/")
    ap.add_argument("--finish", default="auto", choices=FINISHES, help="exact's finish (default: auto)")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    table = pd.read_csv(FOLDER / "dae2023_values.csv")
    names = args.instances.split(",")
    unknown = sorted(set(names) - set(table.instance))
    if unknown:
        ap.error(f"no rows for {unknown} in dae2023_values.csv")
    ps = {int(p) for p in args.p.split(",")} if args.p else None
    RESULTS.mkdir(exist_ok=True)
    rows = []
    for name in names:
        D = floor_euclid(read_tsplib(FOLDER / f"{name}.tsp"))
        for ref in table[table.instance == name].itertuples():
            if ps is not None and ref.p not in ps:
                continue
            row = {**solve_row(D, ref, args.time_limit, args.finish), "time_limit": args.time_limit, "commit": commit,
                   "date": datetime.date.today().isoformat(), **versions()}
            print(json.dumps({k: row[k] for k in ("instance", "p", "status", "ours_value", "paper_value",
                                                  "ours_s", "paper_s", "ratio", "passed")}), flush=True)
            rows.append(row)
            with open(RESULTS / f"{args.out}.jsonl", "a") as f:
                f.write(json.dumps(row, default=str) + "\n")
        del D
    df = pd.DataFrame(rows)
    gm = geometric_mean(df["ratio"].tolist())
    summary = (f"{int(df.passed.sum())} of {len(df)} rows pass; geometric mean of the time ratios "
               f"(ours / paper, {df.ratio.notna().sum()} rows both proved): "
               + ("—" if gm is None else f"{gm:.2f}"))
    print(summary)
    cols = ["instance", "p", "paper_value", "paper_status", "ours_value", "ours_bound", "status", "gap",
            "ours_s", "paper_s", "ratio", "passed", "finish", "heuristic_s", "lp_s"]
    (RESULTS / f"{args.out}.md").write_text(
        "# TSPLIB p-median against DAE 2023\n\n`" + " ".join(["benchmarks/tsplib.py", *(argv or sys.argv[1:])])
        + f"` (commit {commit})\n\n{summary}\n\n" + markdown_table(df[cols]) + "\n")
    return 0 if df.passed.all() else 1


if __name__ == "__main__":
    sys.exit(main())
