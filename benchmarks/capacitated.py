"""Side constraints measured: OR-Library capacitated p-median and a constrained CATE-like row.

* ``pmedcap``  pmedcap01..20 (``../shared/benchmarks/orlib-pmedcap/``: floor distances, usage =
  demand, capacity Q on every treatment, K = p) against ``optima.csv``; each instance with the
  exact engine (``formulation="auto"``: priced bound, knapsack Lagrangian, branch and bound) and
  with the textbook strong model (C1)-(C8) in Pyomo solved by HiGHS
  (``formulation="strong"``, started from our Lagrangian heuristic's menu), one after the other
  in the same process.
* ``cate``     smooth CATE-like n = 100,000, m = 51, K = 5: no treatment above 30 % of the
  customers, and a budget on the discount given (cost of treatment t = its discount) at 80 %
  of what the unconstrained optimum spends; exact (120 s limit) and heuristic.

One JSON line per (instance, method) is appended to ``benchmarks/results/capacitated.jsonl``;
``benchmarks/results/capacitated.md`` is rebuilt from the latest line of each (instance,
formulation or method) after every run, or alone with ``--report``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/capacitated.py --suite pmedcap,cate
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/capacitated.py --suite pmedcap --instances 11-20 --time-limit 60
    .venv/bin/python benchmarks/capacitated.py --report
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd
from common import RESULTS, SHARED, markdown_table, versions
from orlib import parse_range

import coarse_mip as cm
from coarse_mip.datasets import discount_grid, floor_euclid, read_orlib_pmedcap, synthetic_profits

LOG = RESULTS / "capacitated.jsonl"


def run_pmedcap(instances, time_limit: float, formulations) -> list[dict]:
    optima = pd.read_csv(SHARED / "orlib-pmedcap" / "optima.csv").set_index("instance")["optimum"]
    rows = []
    for k in instances:
        name = f"pmedcap{k:02d}"
        xy, demand, p, Q = read_orlib_pmedcap(SHARED / "orlib-pmedcap" / f"{name}.txt")
        cost = floor_euclid(xy)
        cons = cm.Constraints(max_load=Q, usage=demand)
        for formulation in formulations:
            t0 = time.perf_counter()
            sol = cm.solve(-cost, p, constraints=cons, time_limit=time_limit, formulation=formulation)
            seconds = time.perf_counter() - t0
            rows.append({"instance": name, "n": len(demand), "p": p, "formulation": formulation,
                         "optimum": int(optima[name]), "ours": -sol.objective, "bound": -sol.bound,
                         "status": sol.status, "at_optimum": bool(round(-sol.objective) == optima[name]),
                         "seconds": round(seconds, 2), "finish": sol.stats.get("finish"),
                         "bb_nodes": sol.stats.get("bb_nodes")})
            _log(rows[-1])
    return rows


def run_cate(time_limit: float, n: int = 100_000, m: int = 51, K: int = 5) -> list[dict]:
    P = synthetic_profits(n, m, "smooth", seed=0)
    discount = discount_grid(m)
    free = cm.solve(P, K)
    spend = float(discount[free.assignment].sum())
    cons = cm.Constraints(max_share=0.3, cost=discount, budget=0.8 * spend)
    rows = []
    for method in ("exact", "heuristic"):
        t0 = time.perf_counter()
        sol = cm.solve(P, K, method, constraints=cons, time_limit=time_limit)
        seconds = time.perf_counter() - t0
        rows.append({"instance": f"smooth {n}x{m} K={K}, share<=30%, budget 80%", "method": method,
                     "objective": sol.objective, "bound": sol.bound, "gap": sol.gap, "status": sol.status,
                     "seconds": round(seconds, 2), "unconstrained": free.objective, "menu": list(sol.labels),
                     "budget_price": sol.duals.get("budget"), "finish": sol.stats.get("finish")})
        _log(rows[-1])
    return rows


def _log(row: dict) -> None:
    print(json.dumps(row), flush=True)
    with open(LOG, "a") as f:
        f.write(json.dumps({**row, **versions(), "date": time.strftime("%Y-%m-%d %H:%M")}) + "\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="pmedcap,cate")
    ap.add_argument("--instances", default="1-20")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per pmedcap solve")
    ap.add_argument("--cate-time-limit", type=float, default=120.0)
    ap.add_argument("--formulations", default="auto,strong")
    ap.add_argument("--report", action="store_true", help="only rebuild capacitated.md from the log")
    args = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    if not args.report:
        suites = args.suite.split(",")
        if "pmedcap" in suites:
            run_pmedcap(parse_range(args.instances), args.time_limit, args.formulations.split(","))
        if "cate" in suites:
            run_cate(args.cate_time_limit)
    print(report())


def report() -> str:
    """capacitated.md from the latest logged line of each (instance, formulation or method)."""
    lines = [json.loads(line) for line in LOG.read_text().splitlines() if line.strip()]
    parts = []
    pmed = pd.DataFrame([r for r in lines if "formulation" in r])
    if len(pmed):
        pmed = pmed.drop_duplicates(["instance", "formulation"], keep="last").sort_values(["formulation", "instance"])
        cols = ["instance", "n", "p", "formulation", "optimum", "ours", "bound", "status", "seconds", "finish",
                "bb_nodes", "date", "coarse_mip"]
        parts.append(f"## OR-Library pmedcap, 60 s limit each\n\n{markdown_table(pmed[cols])}\n")
        for formulation, rows in pmed.groupby("formulation"):
            parts.append(f"- {formulation}: {int((rows.status == 'optimal').sum())} of {len(rows)} proven, "
                         f"{int(rows.at_optimum.sum())} at the published optimum, {rows.seconds.sum():.1f} s in all, "
                         f"max {rows.seconds.max():.1f} s")
    cate = pd.DataFrame([r for r in lines if "method" in r])
    if len(cate):
        cate = cate.drop_duplicates(["instance", "method"], keep="last")
        cols = ["instance", "method", "objective", "bound", "gap", "status", "seconds", "unconstrained",
                "budget_price", "finish", "date"]
        parts.append(f"\n## Constrained CATE-like row\n\n{markdown_table(cate[cols])}\n")
    text = ("# Capacitated and budgeted instances\n\nCommands: `OMP_NUM_THREADS=1 .venv/bin/python "
            "benchmarks/capacitated.py --suite pmedcap,cate` (see the module docstring); each row is the latest "
            "run of its (instance, formulation or method), stamped with its date.\n\n" + "\n".join(parts) + "\n")
    (RESULTS / "capacitated.md").write_text(text)
    return text


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
