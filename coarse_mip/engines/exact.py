"""The exact engine: reductions, then Benders with a branch-and-bound finish, or a compact MIP.

* ``formulation="auto"`` / ``"benders"`` (formulations/benders.md): the heuristic's menu ->
  the Benders LP cut loop (bound, better roundings) -> VNS if a gap is left -> reduced-cost
  fixing (B10) -> a finish on the surviving columns: Lagrangian branch and bound (B11-B13,
  K <= 10), branch and bound on node LPs (B16, K > 10), the master MIP (B17) or the radius MIP.
  Why ``auto`` is Benders at every size: formulations/README.md.
* ``formulation="radius"`` / ``"strong"``: exact reductions -> greedy menu (warm start and
  fallback incumbent) -> the compact Pyomo model -> HiGHS.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .. import rows
from ..bounds import LPBounder, master_mip
from ..bounds.columns import ColumnBound
from ..formulations import assignment, radius, strong
from ..kernels import Incumbent, MenuValues, transport
from ..kernels.transport import TRANSPORT_GAP
from ..problem import Problem
from ..reductions import group_individuals, identical_rows, reduce_problem
from ..search import (
    branch_and_bound,
    constrained_branch_and_bound,
    greedy_menu,
    lagrangian_search,
    lp_branch_and_bound,
    pad_menu,
    search_menu,
    swap_search,
    unconstrained_start,
)
from ..solver import HighsSession, run_highs
from .spec import EngineResult, EngineSpec, Option, SolveContext

__all__ = ["EXACT", "FORMULATIONS", "FINISHES"]

logger = logging.getLogger(__name__)

FORMULATIONS = ("auto", "benders", "radius", "strong")
FINISHES = ("auto", "branch", "lp-branch", "master-mip", "radius")

#: The Benders flow finishes with Lagrangian branch and bound up to this K and with branch and
#: bound on node LPs above (OR-Library: the first wins for p <= 10; for p >= 20 the second beat
#: the radius MIP, e.g. pmed14 0.2 s against 1.4 s, and rl1304 p = 200: 92 s, radius not done).
AUTO_BRANCH_K = 10

#: Up to this many rows the Benders master gets one cut per row (B4 without aggregation).
ROW_CUT_ROWS = 2_000

#: Radius models with more distinct level sets than this are not built by the Benders finish
#: (their Pyomo build and handoff alone took 97 s at 585,822 sets): branch and bound instead.
MAX_FINISH_SETS = 100_000


def exact_engine(problem: Problem, K: int, ctx: SolveContext, *, formulation: str, finish: str,
                 threads: int | None, verbose: bool, reduce: bool, side=None) -> EngineResult:
    """Solve to proven optimality (or to ``mip_gap``, or until the time limit).

    ``reduce=False`` skips row merging and column dominance (for testing the formulations on
    raw data). Side constraints (``side``) go to :func:`_constrained`.
    """
    if side is not None:
        return _constrained(problem, ctx, side, formulation, dict(threads=threads, verbose=verbose))
    red = reduce_problem(problem, merge_rows=reduce, drop_dominated=reduce)
    P, w = red.profits, red.weights
    stats = {"formulation": formulation, **red.stats(problem)}
    if K >= P.shape[1]:
        # Every surviving column fits on the menu: full personalization is optimal.
        stats["formulation"] = "trivial (K >= surviving columns)"
        return EngineResult(red.columns, problem.full_value(), stats)
    name = stats["formulation"] = "benders" if formulation == "auto" else formulation
    highs = dict(threads=threads, verbose=verbose)
    if name == "benders":
        menu, bound = _benders(P, w, K, ctx, stats, finish, highs)
    else:
        menu, bound = _compact(P, w, K, name, greedy_menu(P, w, K), ctx, stats, highs)
    return EngineResult(red.columns[menu], bound, stats)


def _compact(P, w, K, name, menu, ctx, stats, highs, nodes=None):
    """Solve the radius or strong model from ``menu``; returns (best menu, HiGHS' bound).

    ``nodes``: the radius nodes when already computed."""
    m = P.shape[1]
    value = rows.menu_value(P, w, menu)
    full = pad_menu(menu, K, m)
    t1 = time.perf_counter()
    if name == "radius":
        nodes = radius.radius_nodes(P, w, K) if nodes is None else nodes
        model = radius.build_model(nodes, m, K)
        start = radius.start_values(model, nodes, P, full)
        stats.update(distinct_sets=nodes.J, set_occurrences=nodes.occurrences)
    else:
        model = strong.build_model(P, w, K)
        start = strong.start_values(model, P, full)
    stats["build_s"] = time.perf_counter() - t1
    run = run_highs(model, [model.y[t] for t in range(m)], start=start, time_limit=ctx.remaining(),
                    mip_gap=ctx.mip_gap, seed=ctx.highs_seed, **highs)
    stats.update(run.stats, start_objective=value, incumbent="start")
    if run.values is not None:
        chosen = np.flatnonzero(run.values > 0.5)
        if chosen.size and rows.menu_value(P, w, chosen) > value:
            menu = chosen
            stats["incumbent"] = "highs"
    return menu, run.bound


def _benders(P, w, K, ctx, stats, finish, highs):
    """Root (search + LP bound) -> reduced-cost fixing (B10) -> the finish on what survives."""
    best, lp = _root(P, w, K, ctx, stats)
    value = best.value
    scale = max(1.0, abs(value))
    if value >= lp.bound - max(ctx.mip_gap * abs(value), 1e-9 * scale):
        stats["finish"] = "LP bound"
        return best.menu, lp.bound
    if ctx.expired():
        stats["finish"] = "time limit before the MIP"
        return best.menu, lp.bound
    # (B10) a column whose reduced cost says y_t = 1 caps the value below the incumbent's
    # appears in no better menu: drop it (with a margin for LP round-off).
    keep = lp.master_value + lp.reduced_costs >= value - 1e-7 * scale
    keep[best.menu] = True
    name = finish if finish != "auto" else ("branch" if K <= AUTO_BRANCH_K else "lp-branch")
    stats.update(columns_fixed_to_zero=int(P.shape[1] - keep.sum()), finish=name)
    if keep.sum() <= K:
        return best.menu, value           # only the incumbent's columns can do as well
    # Menus using a dropped column are worth less than ``value``, so every finish's bound is
    # raised to at least ``value``; all of them are valid and the smallest is reported.
    bound = _FINISHES[name](P, w, K, ctx, best, lp, keep, stats, highs)
    return best.menu, min(lp.bound, max(bound, value))


def _root(P, w, K, ctx, stats):
    """The heuristic's menu, the Benders LP bound, and a descent from the LP point."""
    # Per-row cuts while the master stays small: the master MIP finish needs them (B17).
    bounder = LPBounder(P, w, K, deadline=ctx.deadline, seed=ctx.highs_seed,
                        max_groups=P.shape[0] if P.shape[0] <= ROW_CUT_ROWS else 512)
    t1 = time.perf_counter()
    # A gap below 1e-6 is left to the exact finish: shakes would rarely close it.
    menu, figures = search_menu(P, w, K, ctx.rng, bounder, settle_gap=1e-6, deadline=ctx.deadline)
    lp = bounder.lp
    best = Incumbent(P, w, menu)
    stats.update(figures, **lp.stats, lp_bound=lp.bound, heuristic_objective=best.value,
                 heuristic_s=time.perf_counter() - t1 - lp.stats["benders_s"])
    # The LP point is often nearly integral: a descent from its rounding can find what the
    # sampled search missed (rl1304, p = 200: the LP bound is the optimum).
    if best.offer(swap_search(P, w, np.sort(np.argpartition(-lp.y, K - 1)[:K]), deadline=ctx.deadline)[0]):
        stats["incumbent"] = "descent from the LP point"
    return best, lp


def _finish_master_mip(P, w, K, ctx, best, lp, keep, stats, highs):
    """(B17) the master re-solved as a MIP, with the cuts of each new menu."""
    chosen, bound, figures = master_mip(P, w, K, best.menu, lp, keep, deadline=ctx.deadline, mip_gap=ctx.mip_gap,
                                        threads=highs["threads"], seed=ctx.highs_seed)
    stats.update(figures)
    best.offer(chosen)
    return bound


def _finish_lp_branch(P, w, K, ctx, best, lp, keep, stats, highs):
    """(B16) branch and bound on node LPs of the root's master."""
    chosen, _, bound, figures = lp_branch_and_bound(P, w, K, best.menu, lp, allowed=keep, deadline=ctx.deadline,
                                                    gap_tol=ctx.mip_gap)
    stats.update(figures)
    best.offer(chosen)
    return bound


def _finish_on_survivors(P, w, K, ctx, best, lp, keep, stats, highs):
    """Lagrangian branch and bound (B11-B13) or the radius MIP on the surviving columns, whose
    rows are merged again (rows that differ only in dropped columns become one)."""
    cols = np.flatnonzero(keep)
    first, inverse = identical_rows(P[:, cols])
    Pr = np.ascontiguousarray(P[first][:, cols])
    wr = np.bincount(inverse, weights=w, minlength=first.size)
    stats["finish_rows"] = int(first.size)
    start = np.searchsorted(cols, best.menu)
    nodes = None
    if stats["finish"] == "radius":
        nodes = radius.radius_nodes(Pr, wr, K)
        if nodes.J > MAX_FINISH_SETS:
            stats["finish"] = "branch"
    if stats["finish"] == "branch":
        mu = np.full(first.size, -np.inf)
        np.maximum.at(mu, inverse, lp.multipliers)      # merged rows: any one level is valid (B11)
        chosen, _, bound, figures = branch_and_bound(Pr, wr, K, start, mu, deadline=ctx.deadline, gap_tol=ctx.mip_gap)
        stats.update(figures)
    else:
        chosen, bound = _compact(Pr, wr, K, "radius", start, ctx, stats, highs, nodes=nodes)
    best.offer(cols[chosen])
    return bound


def _constrained(problem, ctx, side, formulation, highs):
    """Side constraints (formulations/constrained.md): merged individuals -> the Lagrangian root
    and its menus -> swaps -> branch and bound on the treatments with the knapsack bound (L2)
    at every node (``auto``), or the whole assignment MIP (C1)-(C8) from the best menu
    (``strong``)."""
    if formulation == "radius":
        raise ValueError("formulation='radius' does not take side constraints; use 'auto' or 'strong'")
    data = group_individuals(problem, side)
    values = MenuValues(data, deadline=ctx.deadline)
    name = "lagrangian branch and bound" if formulation in ("auto", "benders") else formulation
    stats = {"formulation": name, **data.stats(problem)}
    tol = max(ctx.mip_gap, TRANSPORT_GAP)

    def closed(bound):
        return bool(np.isfinite(values.value) and np.isfinite(bound)
                    and bound - values.value <= tol * max(1.0, abs(bound)))

    values.offer(unconstrained_start(data))
    priced = _priced_bound(data, values, ctx, stats)
    if values.menu is not None:
        values.of(values.menu, exact=True)         # the best menu's own integer program
    if closed(priced):
        stats["finish"] = "priced bound (C9)"
        return EngineResult.from_menus(values, max(priced, values.value), stats, complete=True)
    bounder, root, figures = lagrangian_search(data, values, deadline=ctx.deadline)
    stats.update(figures)
    L, mu, beta, _, _ = root
    L = min(L, priced)
    if closed(L):
        stats["finish"] = "root bound"
        return EngineResult.from_menus(values, max(L, values.value), stats, complete=True)
    stats["finish"] = formulation if formulation == "strong" else "branch and bound (L2)"
    if formulation == "strong":
        bound, figures = _assignment_mip(data, values, ctx, highs)
        stats.update(figures)
        bound = min(L, max(bound, values.value))
        return EngineResult.from_menus(values, bound, stats, complete=figures["termination"] != "time_limit")
    # (L7) the root's exact Lagrangian dual by column generation: its multipliers warm the tree.
    columns = ColumnBound(data, bounder)
    none = np.zeros(data.k, dtype=bool)
    _, _, worth, taken = bounder.evaluate(data.required, none, mu, beta)
    columns.seed(None if values.menu is None else np.flatnonzero(values.menu), values.x, worth, taken)
    dual, mu, beta, _, _ = columns.bound(data.required, none, mu, beta, 300)
    stats.update(column_bound=dual, patterns=columns.patterns, master_rounds=columns.rounds)
    L = min(L, dual)
    if closed(L):
        stats["finish"] = "root bound (L7)"
        return EngineResult.from_menus(values, max(L, values.value), stats, complete=True)
    bound, figures = constrained_branch_and_bound(data, bounder, values, mu, beta, deadline=ctx.deadline,
                                                  gap_tol=ctx.mip_gap, root_iter=30)
    stats.update(figures)
    return EngineResult.from_menus(values, min(L, bound), stats, complete=figures["bb_complete"])


def _priced_bound(data, values, ctx, stats, rounds: int = 8) -> float:
    """(C9) the load and budget rows priced at the shadow prices of the best menu's transport LP:
    the rest is a p-median whose bonus of offering t (lambda_t hi_t) is one extra row, solved
    exactly by the Benders flow above; its bound plus beta * budget bounds every feasible menu.
    Its menu is valued and priced in turn (a few rounds, the best bound kept). Only for
    problems where offering more never costs (no min loads, no fixed costs); +inf otherwise."""
    if not data.monotone or not data.coupled or ctx.expired():
        return np.inf
    t0 = time.perf_counter()
    best, seen, rounds_done = np.inf, set(), 0
    menu = values.menu
    d = data
    ok = np.ones(d.P.shape, dtype=bool) if d.eligible is None else d.eligible
    for rounds_done in range(1, rounds + 1):
        if menu is None or ctx.expired() or menu.tobytes() in seen:
            break
        seen.add(menu.tobytes())
        slots = np.flatnonzero(menu)
        lp = transport(d, slots, exact=False)
        if lp.duals is None:
            break
        lam = np.zeros(d.k)
        lam[slots] = lp.duals["max_load"]
        beta = lp.duals["budget"] if d.budget is not None else 0.0
        Q = d.w[:, None] * d.P - lam[None, :] * d.usage[:, None]
        if beta > 0:
            Q -= beta * d.w[:, None] * d.cost
        if d.eligible is not None:      # any value keeps a relaxation; below every eligible one is tightest
            Q = np.where(ok, Q, np.where(ok, Q, np.inf).min(axis=1, keepdims=True) - 1.0)
        bonus = np.where(np.isfinite(d.hi), lam * np.where(np.isfinite(d.hi), d.hi, 0.0), 0.0)
        big = float((Q.max(axis=1) - Q.min(axis=1)) @ d.counts) + 1.0
        bonus = bonus + big * d.required                      # a required column is always worth taking
        rows_ = np.diag(bonus)[bonus > 0]
        priced = np.vstack([Q, rows_])
        weights = np.concatenate([d.counts, np.ones(rows_.shape[0])])
        chosen, bound = _pmedian(priced, weights, d.K, ctx)
        upper = bound + beta * (d.budget or 0.0) - big * int(d.required.sum())
        best = min(best, upper)
        menu = np.zeros(d.k, dtype=bool)
        menu[chosen] = True
        values.offer(menu)
        if best - values.value <= TRANSPORT_GAP * max(1.0, abs(best)):
            break
    stats.update(priced_bound=best, priced_rounds=rounds_done, priced_s=time.perf_counter() - t0)
    return best


def _pmedian(P, w, K, ctx):
    """The unconstrained exact flow on ``P`` (n, m), ``w`` (n,): (best menu, proven upper bound)."""
    red = reduce_problem(Problem.from_data(P, w))
    if K >= red.profits.shape[1]:
        return red.columns, float(w @ P.max(axis=1))
    menu, bound = _benders(red.profits, red.weights, K, ctx, {}, "auto", {"threads": None, "verbose": False})
    return red.columns[menu], bound


def _assignment_mip(data, values, ctx, highs):
    """The whole assignment MIP (C1)-(C8) in HiGHS, started from the best menu of ``values``;
    its menu is offered back to ``values``. Returns (HiGHS' bound, figures)."""
    t0 = time.perf_counter()
    model = assignment.build_model(data)
    y = [model.y[t] for t in range(data.k)]
    pairs = list(model.pairs)
    session = HighsSession.from_pyomo(model, first=y)
    session.configure(time_limit=ctx.remaining(), mip_gap=ctx.mip_gap, seed=ctx.highs_seed, **highs)
    y_cols, x_cols = session.columns(y), session.columns([model.x[p] for p in pairs])
    if values.menu is not None:
        start = np.zeros(session.num_cols)
        start[y_cols] = values.menu
        slot = np.cumsum(values.menu) - 1
        g_of, t_of = np.array(pairs).T
        on = values.menu[t_of]
        start[x_cols[on]] = values.x[g_of[on], slot[t_of[on]]]
        session.set_start(start)
    result = session.run()
    if result.has_solution:
        values.offer(session.values(y_cols) > 0.5, exact=True)
    figures = {"build_s": time.perf_counter() - t0 - result.solve_s, **session.stats(result)}
    return result.bound, figures


_FINISHES = {"branch": _finish_on_survivors, "radius": _finish_on_survivors,
             "lp-branch": _finish_lp_branch, "master-mip": _finish_master_mip}


EXACT = EngineSpec(
    "exact",
    "reductions; heuristic menu -> Benders LP cut loop -> reduced-cost fixing -> branch and bound "
    "(or a compact MIP in HiGHS); proves optimality",
    exact_engine,
    {"formulation": Option("auto", "exact model: Benders (auto) or the compact radius / strong MIP",
                           choices=FORMULATIONS),
     "finish": Option("auto", "how Benders closes a gap the LP leaves (B11-B18)", choices=FINISHES),
     "threads": Option(None, "HiGHS threads (default: HiGHS' own)", kind=int, low=1),
     "verbose": Option(False, "HiGHS log on the console", kind=bool),
     "reduce": Option(True, "merge identical rows and drop dominated columns first", kind=bool)},
    constraints=True)
