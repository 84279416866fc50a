"""``coarse-mip estimate | fit | assign | evaluate``: from an experiment file to a deployed policy."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .. import rows
from .files import UserError, check_writable, read_profit_rows, read_table, write_table
from .stage2 import format_curve, solver_arguments

__all__ = ["add_commands"]


def _experiment(args, *, treatment=None, outcome=None, covariates=None, need_outcome=True, df=None):
    """(X, T, Y, weights, groups, ids) from the experiment file of ``args`` (or from ``df``, rows
    already read)."""
    df = read_table(args.experiment) if df is None else df
    treatment = treatment or args.treatment
    outcome = outcome or args.outcome
    named = {"treatment": treatment, "outcome": outcome if need_outcome else None,
             "groups": getattr(args, "groups", None), "weights": getattr(args, "weights", None),
             "id": getattr(args, "id_column", None)}
    for what, col in named.items():
        if col is not None and col not in df.columns:
            raise UserError(f"{what} column {col!r} not in {args.experiment} (columns: {list(df.columns)})")
    if covariates is None:
        covariates = ([c.strip() for c in args.covariates.split(",") if c.strip()] if args.covariates
                      else [c for c in df.columns if c not in set(named.values())])
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise UserError(f"covariate column(s) {missing} not in {args.experiment}")
    if not covariates:
        raise UserError("no covariate columns left: name them with --covariates")
    used = [c for c in (*covariates, *named.values()) if c is not None]
    incomplete = df[used].isna().any(axis=1)
    if incomplete.any():
        if not getattr(args, "dropna", False):
            bad = df[used].columns[df[used].isna().any()].tolist()
            raise UserError(f"{int(incomplete.sum())} of {len(df)} rows of {args.experiment} have missing values "
                            f"(in {bad}); drop them with --dropna")
        print(f"coarse-mip: dropped {int(incomplete.sum())} of {len(df)} rows with missing values", file=sys.stderr)
        df = df[~incomplete].reset_index(drop=True)
    sample = getattr(args, "sample", None)
    if sample is not None and sample < len(df):
        df = df.sample(n=sample, random_state=args.seed).reset_index(drop=True)
        print(f"coarse-mip: using a seeded sample of {sample} rows", file=sys.stderr)
    X = df[covariates]
    T = df[treatment]
    Y = df[outcome] if need_outcome else None
    weights = df[named["weights"]] if named["weights"] else None
    groups = df[named["groups"]].to_numpy() if named["groups"] else None
    ids = df[named["id"]] if named["id"] else pd.Series(np.arange(len(df)), name="row")
    return X, T, Y, weights, groups, ids


def _policy(args):
    from ..policy import CoarsePolicy

    cost = None
    if args.treatment_cost:
        cost = {}
        for item in args.treatment_cost:
            label, sep, value = item.partition("=")
            if not sep:
                raise UserError(f"--treatment-cost {item!r} must look like LABEL=VALUE")
            try:
                cost[label] = float(value)
            except ValueError:
                raise UserError(f"--treatment-cost {item!r}: {value!r} is not a number") from None
    return CoarsePolicy(K=getattr(args, "K", 1), candidates=args.grid, control=args.control, margin=args.margin,
                        treatment_cost=cost, estimator=args.estimator, interpolation=args.interpolation,
                        method=getattr(args, "method", "exact"), time_limit=getattr(args, "time_limit", None),
                        random_state=args.seed, progress=True)


def _typed(policy, T: pd.Series):
    """Control and cost keys as numbers when the treatment is numeric (the CLI reads text)."""
    if pd.api.types.is_numeric_dtype(T):
        try:
            if policy.control is not None:
                policy.control = float(policy.control)
            if policy.treatment_cost:
                policy.treatment_cost = {float(k): v for k, v in policy.treatment_cost.items()}
        except ValueError as exc:
            raise UserError(f"the treatment column is numeric: {exc}") from None
    return policy


def _cmd_estimate(args) -> int:
    check_writable(args.out)
    if getattr(args, "cluster", None) is not None:
        return _estimate_at_scale(args)
    X, T, Y, weights, groups, ids = _experiment(args)
    policy = _typed(_policy(args), T)
    policy.estimate(X, T, Y, sample_weight=weights, groups=groups)
    table = policy.profits_.copy()
    table.columns = [str(c) for c in table.columns]
    table.insert(0, ids.name or "row", ids.to_numpy())
    write_table(table, args.out)
    print(f"profits of {len(table)} individuals under {table.shape[1] - 1} treatments "
          f"(arms {list(policy.arms_)}): {args.out}")
    return 0


def _estimate_at_scale(args) -> int:
    """``estimate`` on a Dask cluster: Stage I fitted on a seeded sample of ``--sample`` rows
    brought into memory, then every row's profits computed and written partition by partition."""
    if args.sample is None:
        raise UserError("estimate with --scheduler / --workers needs --sample N: the rows Stage I is fitted on")
    if not args.id_column:
        raise UserError("--scheduler / --workers need --id-column (rows of a Parquet dataset have no global number)")
    data = read_profit_rows(args.experiment)[0]
    n = int(len(data))
    fit_rows = data.sample(frac=min(1.0, 1.05 * args.sample / n), random_state=args.seed).compute()
    args_fit = argparse.Namespace(**{**vars(args), "sample": min(args.sample, len(fit_rows))})
    X, T, Y, weights, groups, _ = _experiment(args_fit, df=fit_rows.reset_index(drop=True))
    policy = _typed(_policy(args), T)
    policy.estimate(X, T, Y, sample_weight=weights, groups=groups)
    covariates = list(X.columns)
    incomplete = data[covariates].isna().any(axis=1)
    n_bad = int(incomplete.sum().compute())
    if n_bad:
        if not args.dropna:
            raise UserError(f"{n_bad} of {n} rows of {args.experiment} have missing covariate values; drop them "
                            "with --dropna")
        print(f"coarse-mip: dropped {n_bad} of {n} rows with missing covariates", file=sys.stderr)
        data = data[~incomplete]
    profits = policy.predict_profit(data[covariates])
    profits.columns = [str(c) for c in profits.columns]
    table = profits.assign(**{args.id_column: data[args.id_column]})[[args.id_column, *profits.columns]]
    write_table(table, args.out)
    print(f"profits of {n - n_bad} individuals under {len(profits.columns)} treatments (Stage I fitted on "
          f"{len(X)} sampled rows, arms {list(policy.arms_)}): {args.out}")
    return 0


def _cmd_fit(args) -> int:
    import joblib

    check_writable(args.out, args.plot)
    X, T, Y, weights, groups, _ = _experiment(args)
    policy = _typed(_policy(args), T)
    if args.constraints:
        from ..constraints import Constraints

        policy.constraints = Constraints.from_json(args.constraints)
    policy.fit(X, T, Y, sample_weight=weights, groups=groups)
    if policy.curve_ is not None:
        print(format_curve(policy.curve_))
    sol = policy.solution_
    if policy.selection_ is not None:
        table = policy.selection_.table[["dr_loss", "dr_loss_se", "policy_value"]]
        print(f"Stage I: {policy.estimator_name_} ({policy.interpolation_ or 'labels'}), chosen by cross-fitted DR "
              "loss (within one standard error of the smallest, the highest plug-in policy value):\n"
              + table.to_string(float_format=lambda v: f"{v:.4g}"))
    if policy.assignment_table_ is not None:
        print(f"assignment to the menu: {policy.assignment_} (cross-fitted DR value per individual of each rule):\n"
              + policy.assignment_table_.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"menu {list(policy.menu_)}  status {sol.status}  objective {sol.objective:.10g}  bound {sol.bound:.10g}"
          f"  gap {sol.gap:.3g}")
    joblib.dump(policy, args.out)
    print(f"policy: {args.out}")
    if args.plot:
        if policy.curve_ is None:
            raise UserError("--plot needs a range of K, e.g. -K 1-10")
        from ..plot import save_profit_curve

        print(f"figure: {save_profit_curve(policy.curve_, args.plot, title='profit vs K (training data)')}")
    return 0


def load_policy(path):
    import joblib

    if not Path(path).is_file():
        raise UserError(f"no such policy file: {path}")
    try:
        policy = joblib.load(path)
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None
    except Exception as exc:                            # a file joblib cannot read
        raise UserError(f"{path} is not a saved coarse-mip policy ({type(exc).__name__}: {exc})") from None
    from ..policy import CoarsePolicy

    if not isinstance(policy, CoarsePolicy) or not hasattr(policy, "menu_"):
        raise UserError(f"{path} does not hold a fitted coarse-mip policy")
    return policy


def _cmd_assign(args) -> int:
    check_writable(args.out)
    policy = load_policy(args.policy)
    lazy = getattr(args, "cluster", None) is not None
    df = read_profit_rows(args.customers)[0] if lazy else read_table(args.customers)
    covariates = list(policy.feature_names_in_)
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise UserError(f"{args.customers} lacks the covariate column(s) {missing} the policy was fitted on")
    if args.id_column and args.id_column not in df.columns:
        raise UserError(f"id column {args.id_column!r} not in {args.customers}")
    if lazy and not args.id_column:
        raise UserError("--scheduler / --workers need --id-column (rows of a Parquet dataset have no global number)")
    incomplete = df[covariates].isna().any(axis=1)
    n_bad, n = (int(incomplete.sum().compute()), int(len(df))) if lazy else (int(incomplete.sum()), len(df))
    if n_bad:
        if not args.dropna:
            bad_cols = [c for c in covariates if (df[c].isna().any().compute() if lazy else df[c].isna().any())]
            raise UserError(f"{n_bad} of {n} rows of {args.customers} have missing covariate "
                            f"values (in {bad_cols}); drop them with --dropna")
        print(f"coarse-mip: dropped {n_bad} of {n} rows with missing covariates", file=sys.stderr)
        df = df[~incomplete] if lazy else df[~incomplete].reset_index(drop=True)
    if lazy:
        # Labels as pandas strings: Parquet needs one known type per column.
        kind = float if np.asarray(policy.menu_).dtype.kind == "f" else "string"
        meta = pd.DataFrame({args.id_column: pd.Series(dtype=df[args.id_column].dtype),
                             "treatment": pd.Series(dtype=kind), "estimated_profit": pd.Series(dtype=float)})
        out = df.map_partitions(_assignment_part, rows.as_delayed(policy), covariates, args.id_column, kind, meta=meta)
    else:
        out = _assignments(policy, df, covariates, args.id_column)
    write_table(out, args.out)
    shares = out["treatment"].value_counts(normalize=True)
    shares = shares.compute() if lazy else shares
    print(f"assigned {n - n_bad if args.dropna else n} individuals: "
          + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))
    print(f"assignments: {args.out}")
    return 0


def _assignment_part(part: pd.DataFrame, policy, covariates: list, id_column: str, kind) -> pd.DataFrame:
    return _assignments(policy, part, covariates, id_column).astype({"treatment": kind})


def _assignments(policy, df: pd.DataFrame, covariates: list, id_column: str | None) -> pd.DataFrame:
    """Each individual's offered treatment and its estimated profit (one partition at a time on Dask)."""
    offered = policy.predict(df[covariates])
    profit = policy.predict_profit(df[covariates]).to_numpy()
    cols = [policy.candidates_.index(v) for v in offered]
    ids = df[id_column] if id_column else pd.Series(np.arange(len(df)), name="row")
    return pd.DataFrame({ids.name: ids.to_numpy(), "treatment": offered,
                         "estimated_profit": profit[np.arange(len(df)), cols]})


def _cmd_evaluate(args) -> int:
    check_writable(args.json)
    policy = load_policy(args.policy)
    args.experiment = args.heldout
    X, T, Y, _, _, _ = _experiment(args, treatment=args.treatment or policy.treatment_name_,
                                   outcome=args.outcome or policy.outcome_name_,
                                   covariates=list(policy.feature_names_in_))
    score = policy.score(X, T, Y)
    print(f"held-out individuals: {score.n}; menu {list(policy.menu_)}; mix "
          + ", ".join(f"{k} {v:.1%}" for k, v in score.mix.items()))
    print(f"DR value over everyone on control: {_fmt(score.lift)} per individual")
    print(f"DR value over everyone on the best single treatment ({score.single}): {_fmt(score.vs_single)}")
    if args.json:
        report = {"n": score.n, "menu": [_plain(v) for v in policy.menu_], "mix": score.mix,
                  "single": _plain(score.single),
                  "lift_over_control": score.lift._asdict(), "vs_best_single": score.vs_single._asdict(),
                  "evaluated_as": {str(k): _plain(v) for k, v in score.evaluated_as.items()}}
        Path(args.json).write_text(json.dumps(report, indent=2, default=_plain) + "\n")
    return 0


def _fmt(v) -> str:
    return f"{v.value:.4g} [{v.ci[0]:.4g}, {v.ci[1]:.4g}]"


def _plain(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, tuple):
        return list(x)
    return x


def parse_Ks(text: str):
    """``-K`` of fit: 5, 1-10 or 1,3,5."""
    try:
        if "-" in text:
            lo, hi = text.split("-", 1)
            return list(range(int(lo), int(hi) + 1))
        if "," in text:
            return [int(x) for x in text.split(",")]
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"K must be an integer, a range like 1-10 or a list like 1,3,5; "
                                         f"got {text!r}") from None


def parse_grid(text: str):
    """``--grid START:STOP:STEP`` (inclusive) as candidate doses."""
    try:
        start, stop, step = (float(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--grid must look like START:STOP:STEP, got {text!r}") from None
    if step <= 0 or stop < start:
        raise argparse.ArgumentTypeError(f"--grid needs STEP > 0 and STOP >= START, got {text!r}")
    count = int(np.floor((stop - start) / step + 1e-9)) + 1
    return [round(start + k * step, 10) for k in range(count)]


def add_commands(sub) -> None:
    from ..policy import ESTIMATORS
    from ..stage1.profit import INTERPOLATIONS

    def experiment_input(p, name="experiment"):
        p.add_argument(name, help="CSV, Parquet or Stata file of the randomized experiment, one row per individual")
        p.add_argument("--treatment", required=True, metavar="COLUMN", help="treatment received (dose or label)")
        p.add_argument("--outcome", required=True, metavar="COLUMN", help="outcome (sales, spend, response)")
        p.add_argument("--control", metavar="VALUE", help="control treatment (default 0 for doses; needed for labels)")
        p.add_argument("--covariates", metavar="C1,C2,...", help="covariate columns (default: every other column)")
        p.add_argument("--margin", type=float, default=0.35,
                       help="value of one unit of outcome: margin on sales, value per responder (default 0.35)")
        p.add_argument("--treatment-cost", action="append", metavar="LABEL=VALUE",
                       help="cost per individual of a treatment, repeatable")
        p.add_argument("--grid", type=parse_grid, metavar="START:STOP:STEP",
                       help="candidate doses (default: the experiment's arms)")
        p.add_argument("--estimator", choices=ESTIMATORS, default="auto",
                       help="Stage I (default auto: chosen by cross-fitted doubly robust loss among the per-arm "
                            "DRLearner, the pooled dose, two-part, LinearDML and logit models and their stack); or "
                            "one of them by name")
        p.add_argument("--interpolation", choices=("auto", *INTERPOLATIONS), default="auto",
                       help="demand between the arms for doses (auto: chosen with --estimator auto; else quadratic "
                            "per arm, linear for the pooled models)")
        p.add_argument("--groups", metavar="COLUMN", help="clusters (e.g. villages) kept whole in cross-fitting folds")
        p.add_argument("--weights", metavar="COLUMN", help="individual weights")
        p.add_argument("--id-column", metavar="COLUMN", help="individual ids (kept in outputs)")
        p.add_argument("--dropna", action="store_true", help="drop rows with missing values in the used columns "
                                                             "(and say how many)")
        p.add_argument("--sample", type=int, metavar="N", help="a seeded sample of N rows")
        p.add_argument("--seed", type=int, default=0)

    e = sub.add_parser("estimate", help="Stage I: the profit matrix of an experiment on a candidate grid",
                       epilog="example: coarse-mip estimate hillstrom.csv --treatment segment --outcome spend "
                              "--control 'No E-Mail' --treatment-cost 'Mens E-Mail=0.1' -o profits.parquet")
    experiment_input(e)
    e.add_argument("-o", "--out", required=True, metavar="PROFITS", help="profits file (.parquet or .csv)")
    e.set_defaults(func=_cmd_estimate)

    f = sub.add_parser("fit", help="Stage I and II: fit a policy (menu and assignment rule) and save it",
                       epilog="example: coarse-mip fit thornton_hiv.dta --treatment tinc --outcome got "
                              "--covariates distvct,age --estimator dose --margin 3 --dropna -K 1-5 "
                              "--plot curve.png -o policy.joblib")
    experiment_input(f)
    f.add_argument("-K", type=parse_Ks, required=True, help="treatments to offer: 5, a range 1-10 or a list 1,3,5 "
                                                            "(the largest is kept)")
    solver_arguments(f, full=False)
    f.add_argument("--plot", metavar="CURVE.png", help="profit vs K of the training data (with a range of K)")
    f.add_argument("-o", "--out", required=True, metavar="POLICY.joblib")
    f.set_defaults(func=_cmd_fit)

    a = sub.add_parser("assign", help="give new individuals their treatment with a saved policy",
                       epilog="example: coarse-mip assign policy.joblib customers.csv --id-column id -o offers.csv")
    a.add_argument("policy", help="a file written by coarse-mip fit")
    a.add_argument("customers", help="CSV, Parquet or Stata file with the policy's covariate columns")
    a.add_argument("--id-column", metavar="COLUMN", help="individual ids (kept in the output)")
    a.add_argument("--dropna", action="store_true", help="skip individuals with missing covariates (and say how many)")
    a.add_argument("-o", "--out", required=True, metavar="ASSIGNMENTS.csv")
    a.set_defaults(func=_cmd_assign)

    v = sub.add_parser("evaluate", help="doubly robust value of a saved policy on held-out experiment data",
                       epilog="example: coarse-mip evaluate policy.joblib heldout.csv --json report.json")
    v.add_argument("policy", help="a file written by coarse-mip fit")
    v.add_argument("heldout", help="held-out experiment data (never used to fit the policy)")
    v.add_argument("--treatment", metavar="COLUMN", help="default: the column the policy was fitted with")
    v.add_argument("--outcome", metavar="COLUMN", help="default: the column the policy was fitted with")
    v.add_argument("--dropna", action="store_true")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--json", metavar="REPORT.json")
    v.set_defaults(func=_cmd_evaluate)
