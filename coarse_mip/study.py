"""The paper's study on the promotions simulator, end to end.

simulate → Stage I (EconML, on training customers) → profit matrix on a 1 % discount grid →
solve K = 1..K_max (``exact`` and the paper's ``lloyd``) → baselines → evaluate on held-out
customers. One call, :func:`run_study`, returns one row per (K, policy):

``est_share``
    In sample: the policy's *estimated* profit on the training customers over estimated full
    personalization on them, :math:`\\sum_i \\hat P_{i,a(i)} / \\sum_i \\max_t \\hat P_{it}`.
``true_share``
    Held out: the policy's *true* profit on customers not used for estimation or for choosing
    the menu (each assigned by its rule: best offered column by estimated profit, or its
    k-means segment) over the true profit of *true* full personalization on the same
    customers, :math:`\\sum_i P_{i,a(i)} / \\sum_i \\max_t P_{it}` (an oracle that knows
    every customer's true best discount, so the share is at most 1).
``menu_share``
    Held out, with every customer given their *truly* best offered treatment: what the menu
    is worth without assignment error. ``true_share`` below ``menu_share`` is the cost of
    assigning customers by their noisy estimates.
``dr_value, dr_lo, dr_hi``
    For policies that offer experimental arms only: the doubly robust (AIPW) estimate, from
    the held-out experiment alone, of the policy's mean incremental profit per customer over
    giving everyone control, with its 95 % confidence interval. Comparable with
    ``true_value``, which the simulator knows.

Policies: ``exact`` and ``lloyd`` (the joint choice of menu and assignment), and the paper's
baselines from :mod:`coarse_mip.evaluate`: ``kmeans_X`` (k-means on covariates),
``kmeans_effects`` (k-means on the estimated profit vectors, i.e. the estimated CATEs priced
on the grid), ``arms`` (best K of the experimental arms), ``grid`` (best K of an evenly spaced
grid coarser than the candidates), ``best_single`` and ``full`` (full personalization on the
estimates).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import evaluate
from ._validation import check_K
from .api import solve
from .policy import CoarsePolicy
from .stage1 import DEFAULT_ARMS, Experiment, profit_matrix, simulate_promotions
from .stage1.select import STACK

__all__ = ["POLICIES", "run_study", "format_study", "plot_study"]

logger = logging.getLogger("coarse_mip")

#: Policy names in table order.
POLICIES = ("exact", "lloyd", "kmeans_X", "kmeans_effects", "arms", "grid", "best_single", "full")


def run_study(n: int, *, n_test: int | None = None, K_max: int = 10, seed: int = 0, estimator: str = "auto",
              interpolation: str = "auto", menu_from: str = "in_sample", grid_step: float = 0.01,
              coarse_step: float = 0.03,
              time_limit: float | None = 60.0) -> pd.DataFrame:
    """Run the study: every policy for K = 1..K_max, scored in and out of sample.

    Parameters
    ----------
    n : int
        Training customers (Stage I and the choice of every menu); ``coarse-mip demo`` uses
        100,000.
    n_test : int, optional
        Held-out customers (default ``n``), drawn from the same population.
    K_max : int, default=10
        Largest number of treatments.
    seed : int, default=0
        Seed of the simulated customers, the estimator, Lloyd and k-means.
    estimator : str, default="auto"
        Stage I, as :class:`~coarse_mip.CoarsePolicy` (``"auto"``: chosen by the cross-fitted
        DR loss; ``"dr"`` with ``interpolation="quadratic"`` is the study before that).
    interpolation : {"auto", "quadratic", "pchip", "linear"}, default="auto"
        Demand between the arms (:func:`coarse_mip.stage1.profit_matrix`), as CoarsePolicy.
    menu_from : {"in_sample", "out_of_fold"}, default="in_sample"
        Profits every menu and baseline is built on (as CoarsePolicy).
    grid_step : float, default=0.01
        Spacing of the candidate discounts, 0..30 %.
    coarse_step : float, default=0.03
        Spacing of the prespecified grid of the ``grid`` baseline (a multiple of
        ``grid_step``).
    time_limit : float or None, default=60.0
        Seconds per exact solve.

    Returns
    -------
    DataFrame
        One row per (K, policy): ``K, policy, menu, n_treatments, est_share, true_share,
        true_value, menu_share, dr_value, dr_lo, dr_hi, status, gap, seconds``. ``attrs`` holds the
        sizes, the Stage I accuracy (``stage1``: fit seconds and held-out RMSE of the
        per-arm incremental profit) and the two denominators.

    Raises
    ------
    ValueError
        Bad sizes, K_max, interpolation or steps.

    Notes
    -----
    The defaults were measured (README, "The paper's study"): with pchip or linear demand,
    or 10,000 training customers, held-out customers assigned by their own noisy estimated
    profit curves lose to the k-means baselines although the exact menus are near-optimal
    (``menu_share``); quadratic demand and 50,000+ training customers remove that loss.
    """
    K_max = check_K(K_max)
    n_test = n if n_test is None else n_test
    for name, value in (("n", n), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 50:
            raise ValueError(f"{name} must be an integer >= 50, got {value!r}")
    grid = _grid(0.30, grid_step, "grid_step")
    coarse = _grid(0.30, coarse_step, "coarse_step")
    coarse_cols = np.flatnonzero(np.isclose(grid[:, None], coarse[None, :], atol=1e-9).any(axis=1))
    if coarse_cols.size != coarse.size:
        raise ValueError(f"coarse_step={coarse_step} must be a multiple of grid_step={grid_step}")
    arms = np.asarray(DEFAULT_ARMS)
    arm_cols = np.flatnonzero(np.isclose(grid[:, None], arms[None, :], atol=1e-9).any(axis=1))
    if arm_cols.size != arms.size:
        raise ValueError(f"grid_step={grid_step} must divide the arms' spacing {np.diff(arms).min()}")

    t0 = time.perf_counter()
    both = simulate_promotions(n + n_test, arms=arms, seed=seed)
    train, test = both.subset(np.arange(n)), both.subset(np.arange(n, n + n_test))

    # Stage I exactly as users run it: CoarsePolicy.estimate, its estimator and pricing.
    pol = CoarsePolicy(K=1, candidates=grid, margin=train.margin, estimator=estimator, interpolation=interpolation,
                          menu_from=menu_from, random_state=seed, progress=False)
    pol.estimate(train.X, train.arms[train.T], train.sales)
    if menu_from == "out_of_fold" and pol.profits_oof_ is None:
        raise ValueError("menu_from='out_of_fold' needs estimator='auto' (the cross-fitted profits)")
    labels = [f"{round(100 * g)}%" for g in grid]
    P_train = (pol.profits_oof_ if menu_from == "out_of_fold" else pol.profits_).set_axis(labels, axis=1)
    S_test = pol.predict_outcome(test.X)
    P_test = pol.predict_profit(test.X).to_numpy()
    mu_test = profit_matrix(S_test, test.arms, test.arms, margin=test.margin, incremental=False).to_numpy()
    truth = test.true_profit(grid)
    stage1 = _stage1_accuracy(pol, S_test, test)
    logger.info("study: Stage I (%s, %s demand) fitted in %.1f s; held-out per-arm profit RMSE %.3f (constant per arm "
                "%.3f)", pol.estimator_name_, pol.interpolation_, stage1["fit_s"], stage1["rmse_profit"],
                stage1["rmse_constant"])

    rows = []
    for K in range(1, K_max + 1):
        for policy, sol in _policies(P_train, train.X, K, arm_cols, coarse_cols, seed, time_limit):
            a = policy.assign(profits=P_test, X=test.X)
            rows.append({"K": K, "policy": policy.name,
                         "menu": " ".join(str(P_train.columns[t]) for t in policy.treatments),
                         "n_treatments": len(policy.treatments),
                         "est_share": evaluate.share_of_full(P_train, policy.assignment),
                         "true_share": evaluate.share_of_full(truth, a),
                         "true_value": evaluate.true_policy_value(truth, a),
                         "menu_share": evaluate.share_of_full(
                             truth, evaluate.Policy.from_menu(truth, policy.treatments).assignment),
                         **_dr_columns(policy, a, arm_cols, test, mu_test),
                         "status": sol.status if sol is not None else "",
                         "gap": sol.gap if sol is not None else np.nan,
                         "seconds": sol.runtime_s if sol is not None else np.nan})
        logger.info("study: K=%d done at %.1f s", K, time.perf_counter() - t0)
    table = pd.DataFrame(rows)
    table.attrs.update(n=n, n_test=n_test, seed=seed, estimator=pol.estimator_name_,
                       interpolation=pol.interpolation_, menu_from=menu_from, m=grid.size,
                       selection=None if pol.selection_ is None else pol.selection_.table,
                       coarse_grid=P_train.columns[coarse_cols].tolist(), stage1=stage1,
                       full_estimated=float(P_train.to_numpy().max(axis=1).mean()),
                       full_true=float(truth.max(axis=1).mean()), seconds=time.perf_counter() - t0)
    return table


def _grid(top: float, step: float, name: str) -> np.ndarray:
    """Discounts ``0, step, .., top`` (control first); ``step`` must divide ``top``."""
    if not isinstance(step, (int, float)) or not 0 < step <= top:
        raise ValueError(f"{name} must be in (0, {top}], got {step!r}")
    count = round(top / step)
    if not np.isclose(count * step, top, atol=1e-9):
        raise ValueError(f"{name}={step} must divide {top}")
    return np.round(np.arange(count + 1) * step, 10)


def _policies(P: pd.DataFrame, X: pd.DataFrame, K: int, arm_cols: np.ndarray, coarse_cols: np.ndarray,
              seed: int, time_limit: float | None):
    """Every policy of the study at this K, built on the training customers, with its Solution or None."""
    for method in ("exact", "lloyd"):
        sol = solve(P, K, method, time_limit=time_limit if method == "exact" else None, seed=seed)
        yield evaluate.Policy.from_menu(P, sol.treatments, method), sol
    yield evaluate.kmeans_on_covariates(X, P, K, seed=seed), None
    yield evaluate.kmeans_on_effects(P, K, seed=seed), None
    yield evaluate.best_on_grid(P, K, arm_cols, name="arms", time_limit=time_limit), None
    yield evaluate.best_on_grid(P, K, coarse_cols, name="grid", time_limit=time_limit), None
    yield evaluate.best_single(P), None
    yield evaluate.full_personalization(P), None


def _dr_columns(policy: evaluate.Policy, assignment: np.ndarray, arm_cols: np.ndarray, test: Experiment,
                mu_test: np.ndarray) -> dict:
    """AIPW lift over control-for-everyone on the held-out experiment; NaN unless the menu is arms only."""
    if not set(policy.treatments) <= set(arm_cols.tolist()):
        return {"dr_value": np.nan, "dr_lo": np.nan, "dr_hi": np.nan}
    arm_of_column = np.full(arm_cols.max() + 1, -1)
    arm_of_column[arm_cols] = np.arange(arm_cols.size)
    v = evaluate.dr_policy_value(test.profit, test.T, test.propensity, mu_test, arm_of_column[assignment],
                                 reference=np.zeros(test.n, dtype=int))
    return {"dr_value": v.value, "dr_lo": v.ci[0], "dr_hi": v.ci[1]}


def _stage1_accuracy(policy: CoarsePolicy, S_test: np.ndarray, test: Experiment) -> dict:
    """Stage I seconds (selection and final fit) and held-out RMSE of the per-arm incremental profit."""
    true_P = test.true_profit(test.arms)[:, 1:]
    est_P = profit_matrix(S_test, test.arms, test.arms, margin=test.margin).to_numpy()[:, 1:]
    table = None if policy.selection_ is None else policy.selection_.table
    # Per candidate, seconds per fold (its variants share one fit; the stack's are its members').
    selection_s = 0.0 if table is None else float(
        table[table["estimator"] != STACK].groupby("estimator")["fit_s"].first().sum() * policy.cv)
    return {"fit_s": policy.estimator_.fit_time_ + selection_s,
            "rmse_profit": float(np.sqrt(np.mean((est_P - true_P) ** 2))),
            "rmse_constant": float(np.sqrt(np.mean((true_P - true_P.mean(axis=0)) ** 2)))}


def format_study(table: pd.DataFrame) -> str:
    """The study as text: shares by K and policy, then the DR values of arm-only policies.

    Parameters
    ----------
    table : DataFrame
        The result of :func:`run_study`.

    Returns
    -------
    str
    """
    a = table.attrs
    s1 = a["stage1"]
    names = [p for p in POLICIES if p in set(table["policy"])]

    def pivot(column: str) -> str:
        wide = table.pivot(index="K", columns="policy", values=column)[names]
        return wide.to_string(float_format=lambda v: f"{100 * v:.1f}")

    arm_only = table.dropna(subset=["dr_value"])
    cells = [f"{v:.3f} [{lo:.3f}, {hi:.3f}] ({t:.3f})"
             for v, lo, hi, t in arm_only[["dr_value", "dr_lo", "dr_hi", "true_value"]].to_numpy()]
    dr = arm_only.assign(cell=cells).pivot(index="K", columns="policy", values="cell")
    dr = dr[[p for p in names if p in dr.columns]].fillna("")
    exact = table[table["policy"] == "exact"][["K", "menu", "status", "gap", "seconds", "true_share", "menu_share"]]
    return "\n".join([
        f"Promotions simulator: {a['n']:,} training customers (Stage I and every menu), {a['n_test']:,} held-out "
        f"customers, {a['m']} candidate discounts 0-30 %, {a['interpolation']} demand between the "
        f"{len(DEFAULT_ARMS)} arms, seed {a['seed']}.",
        f"Stage I ({a['estimator']}, menus on {a['menu_from'].replace('_', '-')} profits): {s1['fit_s']:.1f} s; "
        f"held-out RMSE of the per-arm incremental profit {s1['rmse_profit']:.3f} (a constant per arm: "
        f"{s1['rmse_constant']:.3f}).",
        *_selection_lines(a.get("selection")),
        f"Per customer: estimated full personalization {a['full_estimated']:.3f} (training), "
        f"true full personalization {a['full_true']:.3f} (held-out).",
        "",
        "In-sample estimated share (%) = estimated profit / ESTIMATED full personalization, training customers:",
        pivot("est_share"),
        "",
        "Held-out true share (%) = true profit / TRUE full personalization (oracle best discount per customer), "
        "held-out customers:",
        pivot("true_share"),
        "",
        "DR (AIPW) lift over control per customer, 95% CI, held-out experiment (policies offering arms only; "
        "true lift in parentheses):",
        dr.to_string(),
        "",
        "Held-out true share: exact against the best baseline (kmeans_X, kmeans_effects, arms, grid, best_single):",
        _losses(table),
        "",
        f"coarse grid of the 'grid' baseline: {' '.join(a['coarse_grid'])}",
        "exact menus (menu_share: held-out true share if every customer got their truly best offered discount):",
        exact.to_string(index=False, formatters={"gap": "{:.1e}".format, "seconds": "{:.2f}".format,
                                                 "true_share": "{:.1%}".format, "menu_share": "{:.1%}".format}),
    ])


def _selection_lines(selection: pd.DataFrame | None) -> list[str]:
    """The Stage I candidates ranked by their cross-fitted DR loss (training customers only)."""
    if selection is None:
        return []
    show = selection[["dr_loss", "dr_loss_se", "policy_value"]]
    return ["Stage I chosen by cross-fitted DR loss on incremental profit at the arms (training customers; "
            "se: of the difference to the best; policy_value: DR value of everyone at their estimated best arm):",
            show.to_string(float_format=lambda v: f"{v:.4g}")]


def _losses(table: pd.DataFrame) -> str:
    """One line: the K at which a baseline beats exact in held-out true share, and by how much."""
    baselines = [p for p in POLICIES if p not in ("exact", "lloyd", "full")]
    wide = table.pivot(index="K", columns="policy", values="true_share")
    best = wide[baselines].max(axis=1)
    lost = wide.index[wide["exact"] < best]
    if not len(lost):
        return f"exact >= every baseline at every K = 1..{wide.index.max()}"
    losses = "; ".join(f"K={K}: {100 * wide.loc[K, 'exact']:.2f}% < {wide.loc[K, baselines].idxmax()} "
                       f"{100 * best[K]:.2f}%" for K in lost)
    return f"exact loses at {losses}" + ("; wins or ties at every other K" if len(lost) < len(wide) else "")


def plot_study(table: pd.DataFrame, path) -> Path:
    """Write the profit-vs-K figure (in-sample estimated and held-out true shares) as a PNG.

    Parameters
    ----------
    table : DataFrame
        The result of :func:`run_study`.
    path : str or Path
        PNG file to write; its folder is created.

    Returns
    -------
    Path
    """
    # A bare Figure on the Agg canvas: no display needed, pyplot's global backend untouched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(11, 4.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, sharex=True)
    for ax, column, title in ((axes[0], "est_share", "in sample: estimated / estimated full"),
                              (axes[1], "true_share", "held out: true / true full personalization")):
        for name in POLICIES:
            rows = table[table["policy"] == name]
            if len(rows):
                ax.plot(rows["K"], 100 * rows[column], marker="o" if name == "exact" else ".",
                        lw=2.2 if name == "exact" else 1.2, label=name)
        ax.set(title=title, xlabel="K (treatments offered)", ylabel="share of full personalization (%)")
        ax.grid(alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=120)
    return path
