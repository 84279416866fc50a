"""Heuristic engines against certified optima.

Suites (each row: instance, method, objective, bound, gap to the reference optimum, seconds):

* ``orlib``   OR-Library pmed1..40, reference = published optimum (optima.csv).
* ``cate``    synthetic CATE-like profits, families ``smooth`` and ``noisy``
              (``coarse_mip.datasets.synthetic_profits``), reference = exact engine when it
              proves optimality within its time limit; also the time of one numpy
              row-wise argmax pass over the same matrix, and our time's ratio to it.
* ``uniform`` U(0, 1) profits, n = 1000, m = 100.

    python benchmarks/heuristic_vs_exact.py --suite orlib
    python benchmarks/heuristic_vs_exact.py --suite cate --n 10000,100000 --m 21,51 --K 5
    python benchmarks/heuristic_vs_exact.py --suite uniform --K 3,5,10
    python benchmarks/heuristic_vs_exact.py --report       # benchmarks/RESULTS.md from the log

Appends one JSON line per (instance, method) to ``benchmarks/results/heuristic_vs_exact.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from common import RESULTS, SHARED, markdown_table, versions

import coarse_mip as cm
from coarse_mip.datasets import read_orlib_pmed, synthetic_profits

METHODS = ("heuristic", "lloyd")


def _ints(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",")]


def _row(suite, instance, method, sol, reference, seconds, **extra) -> dict:
    gap = np.nan if reference is None else (reference - sol.objective) / max(abs(reference), 1e-9)
    return {"suite": suite, "instance": instance, "method": method, "objective": sol.objective,
            "bound": sol.bound, "certified_gap": sol.gap, "status": sol.status,
            "gap_to_optimum": gap, "seconds": round(seconds, 3), **extra}


def _timed(profits, K, method, **kw):
    t0 = time.perf_counter()
    sol = cm.solve(profits, K, method, **kw)
    return sol, time.perf_counter() - t0


def suite_orlib(args):
    optima = pd.read_csv(SHARED / "orlib-pmed" / "optima.csv").set_index("instance")
    for k in range(args.first, args.last + 1):
        name = f"pmed{k}"
        cost, p = read_orlib_pmed(SHARED / "orlib-pmed" / f"{name}.txt")
        opt = -float(optima.loc[name, "optimum"])
        for method in METHODS:
            sol, sec = _timed(-cost, p, method, seed=args.seed)
            yield _row("orlib", name, method, sol, opt, sec, n=cost.shape[0], K=p,
                       search_s=round(sol.stats.get("search_s", np.nan), 3))


def suite_cate(args):
    for family in args.families.split(","):
        for n in _ints(args.n):
            for m in _ints(args.m):
                P = synthetic_profits(n, m, family, seed=args.seed)
                t0 = time.perf_counter()
                P.argmax(axis=1)
                argmax_s = time.perf_counter() - t0
                for K in _ints(args.K):
                    name = f"{family} n={n} m={m} K={K}"
                    ref = None
                    if n * m <= args.exact_max_entries:
                        ex, sec = _timed(P, K, "exact", time_limit=args.exact_time_limit)
                        ref = ex.objective if ex.status == "optimal" else None
                        yield _row("cate", name, "exact", ex, ref, sec, argmax_s=argmax_s)
                    for method in METHODS:
                        sol, sec = _timed(P, K, method, seed=args.seed)
                        yield _row("cate", name, method, sol, ref, sec, argmax_s=argmax_s,
                                   ratio_to_argmax=round(sec / argmax_s, 1))


def suite_uniform(args):
    P = synthetic_profits(1000, 100, "uniform", seed=args.seed)
    for K in _ints(args.K):
        ex, sec = _timed(P, K, "exact", time_limit=args.exact_time_limit)
        ref = ex.objective if ex.status == "optimal" else None
        yield _row("uniform", f"uniform n=1000 m=100 K={K}", "exact", ex, ref, sec)
        for method in METHODS:
            sol, s2 = _timed(P, K, method, seed=args.seed)
            yield _row("uniform", f"uniform n=1000 m=100 K={K}", method, sol, ref, s2)


def write_report() -> None:
    """Render ``benchmarks/RESULTS.md`` from every row logged so far."""
    rows = [json.loads(line) for line in open(RESULTS / "heuristic_vs_exact.jsonl")]
    df = pd.DataFrame(rows)
    parts = ["# Heuristic vs exact: measured results",
             "Rows of `benchmarks/results/heuristic_vs_exact.jsonl`, rendered by "
             "`python benchmarks/heuristic_vs_exact.py --report`. gap_to_optimum is relative to the "
             "published (OR-Library) or proven (exact) optimum; certified_gap uses the engine's own bound; "
             "seconds include the LP bound, search_s is the search alone. One 2-core machine."]
    for suite, g in df.groupby("suite", sort=False):
        summary = g.groupby("method").agg(instances=("instance", "size"),
                                          mean_gap_pct=("gap_to_optimum", lambda x: 100 * x.mean()),
                                          max_gap_pct=("gap_to_optimum", lambda x: 100 * x.max()),
                                          optimum_found=("gap_to_optimum", lambda x: int((x <= 1e-12).sum())),
                                          certified_optimal=("status", lambda x: int((x == "optimal").sum())),
                                          max_seconds=("seconds", "max")).reset_index()
        cols = [c for c in ("instance", "method", "objective", "bound", "gap_to_optimum", "certified_gap",
                            "status", "seconds", "search_s", "ratio_to_argmax") if c in g]
        parts += [f"## {suite}", markdown_table(summary), markdown_table(g[cols])]
    (RESULTS.parent / "RESULTS.md").write_text("\n\n".join(parts) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=["orlib", "cate", "uniform"])
    ap.add_argument("--report", action="store_true", help="only render benchmarks/RESULTS.md")
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--last", type=int, default=40)
    ap.add_argument("--families", default="smooth,noisy")
    ap.add_argument("--n", default="10000")
    ap.add_argument("--m", default="21")
    ap.add_argument("--K", default="5")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exact-time-limit", type=float, default=120.0)
    ap.add_argument("--exact-max-entries", type=float, default=1e7,
                    help="skip the exact reference above this n*m")
    args = ap.parse_args(argv)
    if args.report:
        return write_report()
    if args.suite is None:
        ap.error("--suite is required")
    RESULTS.mkdir(exist_ok=True)
    suite = {"orlib": suite_orlib, "cate": suite_cate, "uniform": suite_uniform}[args.suite]
    stamp = versions()
    with open(RESULTS / "heuristic_vs_exact.jsonl", "a") as log:
        for row in suite(args):
            log.write(json.dumps({**row, **stamp}, default=float) + "\n")
            log.flush()
            print(" ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
                  flush=True)


if __name__ == "__main__":
    main()
