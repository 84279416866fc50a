"""The ``coarse-mip`` command: solve, curve and demo.

User errors (bad files, bad data, bad options) print one line ``coarse-mip: error: ...`` on
stderr and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .api import METHODS, profit_curve, solve
from .constraints import Constraints
from .engines import ENGINES

__all__ = ["main"]

EXIT_USAGE = 2
#: Training customers of ``coarse-mip demo`` (as many held out): about 80 s on one core.
DEMO_N = 100_000


class UserError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


def read_profits(path: str, weight_column: str | None = None, id_column: str | None = None,
                 extra_columns: tuple = ()) -> tuple[pd.DataFrame, pd.Series | None, pd.Index, dict]:
    """Read a CSV or Parquet file whose columns are treatments.

    Returns (profits DataFrame, weights or None, row ids, {extra column: values}). Every
    remaining column must be numeric: nothing is dropped silently.
    """
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no such file: {path}")
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(p)
        elif suffix in (".csv", ".txt", ".gz"):
            df = pd.read_csv(p)
        else:
            raise UserError(f"{path}: unknown file type {suffix!r} (use .csv or .parquet)")
    except ImportError as exc:
        raise UserError(f"reading {path} needs an optional package: {exc}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    weights = None
    named = [(weight_column, "weight"), (id_column, "id")] + [(c, "usage") for c in extra_columns]
    for col, what in named:
        if col is not None and col not in df.columns:
            raise UserError(f"{what} column {col!r} not in {path} (columns: {list(df.columns)})")
    ids = df.index
    if id_column is not None:
        ids = pd.Index(df.pop(id_column), name=id_column)
    if weight_column is not None:
        weights = df.pop(weight_column)
    extra = {col: df.pop(col) for col in extra_columns}
    df.columns = [str(c) for c in df.columns]
    return df, weights, ids, extra


def _constraints(args) -> tuple[Constraints | None, tuple]:
    """The ``--constraints`` file (None without one) and the profits-file columns it names."""
    if not getattr(args, "constraints", None):
        return None, ()
    path = Path(args.constraints)
    if not path.is_file():
        raise UserError(f"no such constraints file: {args.constraints}")
    try:
        usage = json.loads(path.read_text()).get("usage")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise UserError(f"cannot read constraints {args.constraints}: {exc}") from None
    return path, ((usage,) if isinstance(usage, str) else ())


def _read_inputs(args):
    """Profits, weights, ids and the constraints of a solve or curve command."""
    cons_path, extra = _constraints(args)
    profits, weights, ids, columns = read_profits(args.profits, args.weights, args.id_column, extra)
    cons = None if cons_path is None else Constraints.from_json(cons_path, columns=columns)
    return profits, weights, ids, cons


def _check_writable(*paths) -> None:
    """Fail before any work when an output file cannot be written."""
    for path in paths:
        if not path:
            continue
        target = Path(path)
        folder = target.parent if str(target.parent) else Path(".")
        if target.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK) or (
                target.exists() and not os.access(target, os.W_OK)):
            raise UserError(f"cannot write {path}: no such folder or not writable")


def _write_table(df: pd.DataFrame, path: str) -> None:
    if path.lower().endswith(".parquet"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def _cmd_solve(args) -> int:
    _check_writable(args.json, args.assignments)
    profits, weights, ids, cons = _read_inputs(args)
    options = _engine_options(args)
    if args.formulation is not None:
        options["formulation"] = ENGINES["exact"].options["formulation"].check("formulation", args.formulation)
        if args.method != "exact":
            raise UserError(f"--formulation is an option of --method exact, not {args.method}")
    sol = solve(profits, args.K, args.method, weights=weights, constraints=cons, time_limit=args.time_limit,
                mip_gap=args.mip_gap, seed=args.seed, **options)
    print(f"status {sol.status}  objective {sol.objective:.10g}  bound {sol.bound:.10g}  "
          f"gap {sol.gap:.3g}  {sol.runtime_s:.2f}s")
    if sol.status in ("infeasible", "no_solution"):
        print(f"  {sol.stats.get('reason', '')}")
    counts = np.bincount(sol.assignment[sol.assignment >= 0], minlength=profits.shape[1])
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
        P = profits.to_numpy(dtype=float)
        out = pd.DataFrame({ids.name or "row": ids,
                            "treatment": [profits.columns[t] for t in sol.assignment],
                            "profit": P[np.arange(len(P)), sol.assignment]})
        _write_table(out, args.assignments)
    return 0


def _cmd_curve(args) -> int:
    _check_writable(args.out)
    profits, weights, _, cons = _read_inputs(args)
    Ks = range(1, args.K_max + 1)
    table = profit_curve(profits, Ks, args.method, weights=weights, constraints=cons, time_limit=args.time_limit,
                         mip_gap=args.mip_gap, seed=args.seed, **_engine_options(args))
    print(_format_curve(table))
    if args.out:
        _write_table(table.assign(labels=table["labels"].map(json.dumps)), args.out)
    return 0


def _cmd_demo(args) -> int:
    from .study import format_study, plot_study, run_study

    t0 = time.perf_counter()
    table = run_study(args.n, n_test=args.n_test, K_max=args.K_max, seed=args.seed,
                      interpolation=args.interpolation, time_limit=args.time_limit)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "study.csv", index=False)
    png = plot_study(table, out / "profit_vs_K.png")
    print(format_study(table))
    print(f"table: {out / 'study.csv'}")
    print(f"figure: {png}")
    print(f"total {time.perf_counter() - t0:.1f}s")
    return 0


def _K(text: str):
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"K must be an integer or 'none', got {text!r}") from None


def _engine_options(args) -> dict:
    """``--option NAME=VALUE`` pairs, checked against the chosen engine's spec."""
    return ENGINES[args.method].parse(args.option or [])


def _format_curve(table: pd.DataFrame) -> str:
    show = table[["K", "objective", "bound", "gap", "share", "status", "seconds", "labels"]].copy()
    show["share"] = (100 * show["share"]).map(lambda v: f"{v:.3f}%")
    show["gap"] = show["gap"].map(lambda v: f"{v:.1e}")
    show["seconds"] = show["seconds"].map(lambda v: f"{v:.2f}")
    show["labels"] = show["labels"].map(lambda v: " ".join(map(str, v)))
    return show.to_string(index=False, float_format=lambda v: f"{v:,.2f}")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="coarse-mip", description=__doc__.splitlines()[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = ap.add_subparsers(dest="command", required=True)

    def common(p, k_name):
        p.add_argument("profits", help="CSV or Parquet file: one column per treatment, one row per individual")
        if k_name == "K":
            p.add_argument("-K", type=_K, required=True, metavar="K",
                           help="number of treatments to offer ('none': as many as pay for their fixed costs)")
        else:
            p.add_argument("--K-max", type=int, default=10, help="largest K (default 10)")
        p.add_argument("--method", default="exact", choices=sorted(METHODS))
        p.add_argument("--time-limit", type=float, default=None, help="seconds per solve")
        p.add_argument("--mip-gap", type=float, default=0.0, help="relative gap accepted as optimal")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--weights", metavar="COLUMN", help="column holding individual weights")
        p.add_argument("--id-column", metavar="COLUMN", help="column holding individual ids")
        p.add_argument("--constraints", metavar="FILE.json",
                       help="side constraints (capacities, shares, budget, eligibility, require/forbid, fixed "
                            "costs) as JSON, treatments by label; 'usage' may name a column of the profits file")
        p.add_argument("--option", action="append", metavar="NAME=VALUE",
                       help="engine option, repeatable: " + "; ".join(
                           f"{spec.name}: {', '.join(spec.options) or 'none'}" for spec in ENGINES.values()))

    s = sub.add_parser("solve", help="choose K treatments and assign every individual")
    common(s, "K")
    s.add_argument("--formulation", choices=ENGINES["exact"].options["formulation"].choices, default=None,
                   help="exact engine's model (same as --option formulation=...)")
    s.add_argument("--json", metavar="REPORT.json", help="write the Solution as JSON")
    s.add_argument("--assignments", metavar="OUT.csv", help="write each individual's treatment")
    s.set_defaults(func=_cmd_solve)

    c = sub.add_parser("curve", help="objective, bound and share of full personalization for K = 1..K-max")
    common(c, "K_max")
    c.add_argument("--out", metavar="CURVE.csv", help="write the table")
    c.set_defaults(func=_cmd_curve)

    d = sub.add_parser("demo", help="the paper's study on simulated promotions: simulate, estimate, solve "
                                     "K = 1..K-max, baselines, held-out evaluation, profit-vs-K figure")
    d.add_argument("--n", type=int, default=DEMO_N, help=f"training customers (default {DEMO_N:,})")
    d.add_argument("--n-test", type=int, default=None, help="held-out customers (default: --n)")
    d.add_argument("--K-max", type=int, default=10, help="largest K (default 10)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--interpolation", default="quadratic",
                   help="demand between the experimental arms: quadratic (default), pchip or linear")
    d.add_argument("--time-limit", type=float, default=60.0, help="seconds per exact solve (default 60)")
    d.add_argument("--out-dir", default="demo_output", help="folder for study.csv and profit_vs_K.png "
                                                             "(default ./demo_output)")
    d.set_defaults(func=_cmd_demo)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return args.func(args)
    except (UserError, ValueError) as exc:
        print(f"coarse-mip: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
