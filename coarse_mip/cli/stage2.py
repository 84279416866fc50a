"""``coarse-mip solve | curve | demo``: Stage II from a profit matrix, and the paper's study."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import rows
from ..api import METHODS, profit_curve, solve
from ..constraints import Constraints
from ..engines import ENGINES
from .files import UserError, check_writable, read_constraints, read_profit_rows, write_table

__all__ = ["add_commands"]

#: Training customers of ``coarse-mip demo`` (as many held out): about 145 s on one core.
DEMO_N = 100_000


def parse_K(text: str):
    """``-K``: an integer, or "none" (as many as pay for their fixed costs)."""
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"K must be an integer or 'none', got {text!r}") from None


def engine_options(args) -> dict:
    """``--option NAME=VALUE`` pairs, checked against the chosen engine's spec."""
    return ENGINES[args.method].parse(args.option or [])


def _inputs(args):
    """Profits, weights, ids and constraints: in memory, or lazily with a Dask cluster."""
    if getattr(args, "cluster", None) is None:
        return read_constraints(args.constraints, args.profits, args.weights, args.id_column)
    profits, weights, ids = read_profit_rows(args.profits, args.weights, args.id_column)
    cons = Constraints.from_json(args.constraints) if args.constraints else None
    return profits, weights, ids, cons


def _cmd_solve(args) -> int:
    check_writable(args.json, args.assignments)
    profits, weights, ids, cons = _inputs(args)
    options = engine_options(args)
    if args.formulation is not None:
        if args.method != "exact":
            raise UserError(f"--formulation is an option of --method exact, not {args.method}")
        options["formulation"] = args.formulation
    sol = solve(profits, args.K, args.method, weights=weights, constraints=cons, time_limit=args.time_limit,
                mip_gap=args.mip_gap, seed=args.seed, progress=True, **options)
    print(f"status {sol.status}  objective {sol.objective:.10g}  bound {sol.bound:.10g}  "
          f"gap {sol.gap:.3g}  {sol.runtime_s:.2f}s")
    if sol.status in ("infeasible", "no_solution"):
        print(f"  {sol.stats.get('reason', '')}")
    lazy = hasattr(profits, "npartitions")
    assignment = np.asarray(sol.assignment)            # computed here when it is a Dask array
    counts = np.bincount(assignment[assignment >= 0], minlength=len(profits.columns))
    for t, label in zip(sol.treatments, sol.labels, strict=True):
        print(f"  {label}: {counts[t]} individuals")
    for key, prices in sol.duals.items():
        if isinstance(prices, dict):
            for label, price in prices.items():
                print(f"  shadow price of the {key.replace('_', ' ')} of {label}: {price:.6g}")
        else:
            print(f"  shadow price of the {key}: {prices:.6g}")
    if args.json:
        report = sol.to_dict()
        report.update(n=int(profits.shape[0]), m=int(profits.shape[1]), K=args.K)
        Path(args.json).write_text(json.dumps(report, indent=2, allow_nan=True) + "\n")
    if args.assignments:
        if sol.status in ("infeasible", "no_solution"):
            raise UserError(f"no assignment to write: status {sol.status}")
        if lazy:
            write_table(_lazy_assignments(profits, ids, sol), args.assignments)
            return 0
        P = profits.to_numpy(dtype=float)
        write_table(pd.DataFrame({ids.name or "row": ids,
                                  "treatment": [profits.columns[t] for t in sol.assignment],
                                  "profit": P[np.arange(len(P)), sol.assignment]}), args.assignments)
    return 0


def _lazy_assignments(profits, ids, sol):
    """Each row's treatment and profit as a Dask DataFrame, partition by partition, by the rule
    of the Solution (``rows.assign``: best chosen treatment, ties to the lowest column)."""
    labels, menu = np.asarray(profits.columns), np.asarray(sol.treatments)
    id_name = None if ids is None else ids.name
    frame = profits if ids is None else profits.assign(**{id_name: ids})

    def part(df):
        P = df[list(labels)].to_numpy(dtype=float)
        a = rows.assign(P, menu)
        out = {id_name: df[id_name].to_numpy()} if id_name else {}
        return pd.DataFrame({**out, "treatment": pd.Series(labels[a], dtype="string"),
                             "profit": P[np.arange(len(P)), a]})

    meta = pd.DataFrame({**({id_name: pd.Series(dtype=frame[id_name].dtype)} if id_name else {}),
                         "treatment": pd.Series(dtype="string"), "profit": pd.Series(dtype=float)})
    return frame.map_partitions(part, meta=meta)


def _cmd_curve(args) -> int:
    check_writable(args.out, args.plot)
    profits, weights, _, cons = _inputs(args)
    table = profit_curve(profits, range(1, args.K_max + 1), args.method, weights=weights, constraints=cons,
                         time_limit=args.time_limit, mip_gap=args.mip_gap, seed=args.seed, **engine_options(args))
    print(format_curve(table))
    if args.out:
        write_table(table.assign(labels=table["labels"].map(json.dumps)), args.out)
    if args.plot:
        from ..plot import save_profit_curve

        print(f"figure: {save_profit_curve(table, args.plot, title=f'{Path(args.profits).name}: profit vs K')}")
    return 0


def _cmd_demo(args) -> int:
    from ..study import format_study, plot_study, run_study

    t0 = time.perf_counter()
    table = run_study(args.n, n_test=args.n_test, K_max=args.K_max, seed=args.seed,
                      estimator=args.estimator, interpolation=args.interpolation, menu_from=args.menu_from,
                      time_limit=args.time_limit)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "study.csv", index=False)
    png = plot_study(table, out / "profit_vs_K.png")
    print(format_study(table))
    print(f"table: {out / 'study.csv'}")
    print(f"figure: {png}")
    print(f"total {time.perf_counter() - t0:.1f}s")
    return 0


def format_curve(table: pd.DataFrame) -> str:
    show = table[["K", "objective", "bound", "gap", "share", "status", "seconds", "labels"]].copy()
    show["share"] = (100 * show["share"]).map(lambda v: f"{v:.3f}%")
    show["gap"] = show["gap"].map(lambda v: f"{v:.1e}")
    show["seconds"] = show["seconds"].map(lambda v: f"{v:.2f}")
    show["labels"] = show["labels"].map(lambda v: " ".join(map(str, v)))
    return show.to_string(index=False, float_format=lambda v: f"{v:,.2f}")


def solver_arguments(p: argparse.ArgumentParser, full: bool = True) -> None:
    """Stage II options of solve and curve; fit (``full=False``) takes only the method, the time
    limit and the constraints (its --seed is the experiment's)."""
    p.add_argument("--method", default="exact", choices=list(METHODS))
    p.add_argument("--time-limit", type=float, default=None, help="seconds per solve")
    if full:
        p.add_argument("--mip-gap", type=float, default=0.0, help="relative gap accepted as optimal")
        p.add_argument("--seed", type=int, default=0)
    p.add_argument("--constraints", metavar="FILE.json",
                   help="side constraints (capacities, shares, budget, eligibility, require/forbid, fixed "
                        "costs) as JSON, treatments by label; 'usage' may name a column of the input file")
    if full:
        p.add_argument("--option", action="append", metavar="NAME=VALUE",
                       help="engine option, repeatable: " + "; ".join(
                           f"{spec.name}: {', '.join(spec.options) or 'none'}" for spec in ENGINES.values()))


def add_commands(sub) -> None:
    from ..policy import ESTIMATORS

    def profits_input(p):
        p.add_argument("profits", help="CSV, Parquet or Stata file: one column per treatment, one row per individual")
        p.add_argument("--weights", metavar="COLUMN", help="column holding individual weights")
        p.add_argument("--id-column", metavar="COLUMN", help="column holding individual ids")
        solver_arguments(p)

    s = sub.add_parser("solve", help="choose K treatments and assign every individual",
                       epilog="example: coarse-mip solve profits.csv -K 5 --id-column id --json report.json "
                              "--assignments who_gets_what.csv")
    profits_input(s)
    s.add_argument("-K", type=parse_K, required=True, metavar="K",
                   help="number of treatments to offer ('none': as many as pay for their fixed costs)")
    s.add_argument("--formulation", choices=ENGINES["exact"].options["formulation"].choices, default=None,
                   help="exact engine's model (same as --option formulation=...)")
    s.add_argument("--json", metavar="REPORT.json", help="write the Solution as JSON")
    s.add_argument("--assignments", metavar="OUT.csv", help="write each individual's treatment")
    s.set_defaults(func=_cmd_solve)

    c = sub.add_parser("curve", help="objective, bound and share of full personalization for K = 1..K-max",
                       epilog="example: coarse-mip curve profits.parquet --K-max 10 --plot curve.png --out curve.csv")
    profits_input(c)
    c.add_argument("--K-max", type=int, default=10, help="largest K (default 10)")
    c.add_argument("--out", metavar="CURVE.csv", help="write the table")
    c.add_argument("--plot", metavar="CURVE.png", help="draw profit vs K with the certified band")
    c.set_defaults(func=_cmd_curve)

    d = sub.add_parser("demo", help="the paper's study on simulated promotions: simulate, estimate, solve "
                                     "K = 1..K-max, baselines, held-out evaluation, profit-vs-K figure",
                       epilog="example: coarse-mip demo --n 50000 --out-dir demo_output")
    d.add_argument("--n", type=int, default=DEMO_N, help=f"training customers (default {DEMO_N:,})")
    d.add_argument("--n-test", type=int, default=None, help="held-out customers (default: --n)")
    d.add_argument("--K-max", type=int, default=10, help="largest K (default 10)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--estimator", default="auto", choices=list(ESTIMATORS),
                   help="Stage I (default auto: chosen by cross-fitted DR loss; 'dr' with --interpolation "
                        "quadratic is the study before it)")
    d.add_argument("--interpolation", default="auto", choices=["auto", "quadratic", "pchip", "linear"],
                   help="demand between the experimental arms (default auto: chosen with the estimator)")
    d.add_argument("--menu-from", default="in_sample", choices=["in_sample", "out_of_fold"],
                   help="profits every menu is chosen on (out_of_fold: cross-fitted, needs --estimator auto)")
    d.add_argument("--time-limit", type=float, default=60.0, help="seconds per exact solve (default 60)")
    d.add_argument("--out-dir", default="demo_output", help="folder for study.csv and profit_vs_K.png "
                                                             "(default ./demo_output)")
    d.set_defaults(func=_cmd_demo)
