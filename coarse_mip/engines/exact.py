"""The exact engine: reductions, then Benders with a branch-and-bound finish, or a compact MIP.

* ``formulation="auto"`` / ``"benders"`` (formulations/benders.md): the heuristic's menu ->
  the Benders LP cut loop (bound, better roundings) -> VNS if a gap is left -> reduced-cost
  fixing (B10) -> a finish on the surviving columns: Lagrangian branch and bound (B11-B13,
  K <= 10), the master MIP (B17, K > 10), branch and bound on node LPs (B16) or the radius MIP.
  Why ``auto`` is Benders at every size: formulations/README.md.
* ``formulation="radius"`` / ``"strong"``: exact reductions -> greedy menu (warm start and
  fallback incumbent) -> the compact Pyomo model -> HiGHS.
* ``formulation="ladder"`` (formulations/ladder.md): every row single-peaked along the column
  order -> the exact dynamic program (D7-D8), O(n m + K m^2); ``auto`` takes it whenever it
  applies.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .. import rows
from ..bounds import LPBounder, fix_by_reduced_cost, master_mip
from ..bounds.columns import ColumnBound
from ..bounds.priced import priced_bound
from ..formulations import assignment, radius, strong
from ..kernels import Incumbent, MenuValues, ladder_tables, peaks
from ..kernels.transport import TRANSPORT_GAP
from ..problem import Problem
from ..reductions import group_individuals, identical_rows, reduce_problem
from ..search import (
    branch_and_bound,
    constrained_branch_and_bound,
    descend_from_lp,
    greedy_menu,
    ladder_menu,
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

FORMULATIONS = ("auto", "benders", "ladder", "radius", "strong")
LADDER = "single-peaked DP (D7-D8)"
FINISHES = ("auto", "branch", "lp-branch", "master-mip", "radius")

#: The Benders flow finishes with Lagrangian branch and bound up to this K (OR-Library: it wins
#: for p <= 10) and above it with the master MIP (B17), which tied or won against depth-first
#: node LPs on CATE-like profits at K = 12..15 (gap after 60 s) ...
AUTO_BRANCH_K = 10

#: ... unless the master holds one cut per row and the root's gap (LP bound against the
#: incumbent, relative) is at most this: then branch and bound on node LPs (B16, B19), whose
#: trees stay small on small gaps (rl1304 p = 10, gap 0.12 %: 21 s against 97 s for B11-B13;
#: pcb3038 p = 50-200: proven in 57-77 s, the master MIP not in 300 s) but grow on large ones
#: (OR-Library p <= 10 with gaps of 0.2-1 %: B11-B13 up to 3.5 times faster; fl1400 p = 200,
#: root gap above 0.2 %: the master MIP proves it, HiGHS' root cuts close most of the gap).
LP_BRANCH_GAP = 1.5e-3
#: ... and the menu holds at most this share of the columns: with larger menus the root LP is
#: degenerate, strong branching's trees grow and HiGHS' restarts and root cuts do better. The
#: threshold sits between the measured points (seconds, master MIP against node LPs): pcb3038
#: p = 400 (13 % of the columns) 20-26 against 58-98 and rl5934 p = 1000 (17 %) 598 against
#: not proven in 300; rl5934 p = 300 and 600 (5 % and 10.1 %): node LPs prove in 146 s and
#: 300 s what the master MIP had not in 600 s and 300 s.
LP_BRANCH_SHARE = 0.12

#: Up to this many rows the Benders master gets one cut per row (B4 without aggregation) ...
ROW_CUT_ROWS = 2_000
#: ... and up to this many when the rows' cuts are sparse: on average at most SPARSE_CUT_NNZ
#: columns beat a row's value on the heuristic's menu (square distance instances at large p;
#: pcb3038, p = 300: the LP in 11.7 s with 3,038 row cuts against 72.8 s with 512 group cuts).
SPARSE_ROW_CUT_ROWS = 20_000
SPARSE_CUT_NNZ = 64
#: ... or the n row cuts hold at most this many nonzeros in all: pcb3038 p = 20 (68 per row,
#: 206,000 in all) is proven in 115 s with row cuts and node LPs (B16) where 512 group cuts
#: left it open after 120 s (no node LPs without row cuts); p = 5 and 10 (254 and 133 per row)
#: take the same time either way (54.6 / 12.7 s against 55.4 / 10.8 s).
ROW_CUT_NNZ = 2 ** 20

#: Constrained problems: branch and bound nodes before the hand-over to the assignment MIP (C10)
#: (pmedcap, 60 s each: the tree alone proved 17 of 20 in 409 s, the MIP from the Lagrangian
#: heuristic's menu 19 in 244 s, the tree won only on the easiest).
HANDOVER_NODES = 200
#: ... when that MIP has at most this many (group, treatment) pairs (Pyomo builds at 1-4 us a
#: nonzero; the CATE-like 100,000 x 51 row, 5.1 M pairs, is left to the priced bound).
STRONG_MAX_PAIRS = 200_000

#: Radius models with more distinct level sets than this are not built by the Benders finish
#: (their Pyomo build and handoff alone took 97 s at 585,822 sets): branch and bound instead.
MAX_FINISH_SETS = 100_000

#: The Lagrangian finish starts only with this many cut rounds' time left (its root node's
#: first step reads P about twice, a cut round once).
FINISH_ROUNDS = 2


def exact_engine(problem: Problem, K: int, ctx: SolveContext, *, formulation: str, finish: str,
                 threads: int | None, verbose: bool, reduce: bool, side=None) -> EngineResult:
    """Solve to proven optimality (or to ``mip_gap``, or until the time limit).

    ``reduce=False`` skips row merging and column dominance (for testing the formulations on
    raw data). Side constraints (``side``) go to :func:`_constrained`.
    """
    if side is not None:
        if formulation == "ladder":
            raise ValueError("formulation='ladder' does not take side constraints; use 'auto' or 'strong'")
        return _constrained(problem, ctx, side, formulation, dict(threads=threads, verbose=verbose))
    dp = formulation in ("auto", "ladder")
    if dp:
        # (D1) on the rows as given first: the DP needs no reductions, which cost more than it.
        found = _ladder(problem.profits, problem.weights, K)
        if found is not None:
            return EngineResult(found[0], found[1], {"formulation": LADDER})
    red = reduce_problem(problem, merge_rows=reduce, drop_dominated=reduce)
    P, w = red.profits, red.weights
    stats = {"formulation": formulation, **red.stats(problem)}
    if K >= P.shape[1]:
        # Every surviving column fits on the menu: full personalization is optimal.
        stats["formulation"] = "trivial (K >= surviving columns)"
        return EngineResult(red.columns, problem.full_value(), stats)
    # Dropping dominated columns can remove a row's second peak.
    found = _ladder(P, w, K) if dp and P.shape[1] < problem.m else None
    if found is not None:
        stats["formulation"] = LADDER
        return EngineResult(red.columns[found[0]], found[1], stats)
    if formulation == "ladder":
        bad = int((peaks(problem.profits, probe=False) < 0).sum())
        raise ValueError(f"formulation='ladder' needs every row single-peaked along the column order; "
                         f"{bad} of {problem.n} rows are not")
    name = stats["formulation"] = "benders" if formulation == "auto" else formulation
    highs = dict(threads=threads, verbose=verbose)
    if name == "benders":
        menu, bound = _benders(P, w, K, ctx, stats, finish, highs)
    else:
        menu, bound = _compact(P, w, K, name, greedy_menu(P, w, K), ctx, stats, highs)
    return EngineResult(red.columns[menu], bound, stats)


def _ladder(P, w, K):
    """(D7-D8) when every row of ``P`` (n, m) is single-peaked: (menu, bound); else None."""
    peak = peaks(P)
    if (peak < 0).any():
        return None
    menu, dp_value = ladder_menu(ladder_tables(P, w, peak), K)
    # The DP's sum and the menu's value differ only by summation order: both are the optimum.
    return menu, max(dp_value, rows.menu_value(P, w, menu))


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
    # appears in no better menu: drop it.
    keep = fix_by_reduced_cost(lp, best.menu, value)[1] > 0
    root_gap = (lp.bound - value) / scale
    name = finish if finish != "auto" else _auto_finish(K, P.shape[1], root_gap,
                                                        lp.stats["benders_groups"] == P.shape[0])
    stats.update(columns_fixed_to_zero=int(P.shape[1] - keep.sum()), finish=name, root_gap=root_gap)
    if keep.sum() <= K:
        return best.menu, value           # only the incumbent's columns can do as well
    # Menus using a dropped column are worth less than ``value``, so every finish's bound is
    # raised to at least ``value``; all of them are valid and the smallest is reported.
    bound = _FINISHES[name](P, w, K, ctx, best, lp, keep, stats, highs)
    return best.menu, min(lp.bound, max(bound, value))


def _auto_finish(K: int, m: int, root_gap: float, row_cuts: bool) -> str:
    """(B14) branch and bound on node LPs (B16, B19) when the master holds one cut per row, the
    root leaves a small gap and the menu is small against the m columns; else Lagrangian branch
    and bound (K <= 10) or the master MIP."""
    if row_cuts and root_gap <= LP_BRANCH_GAP and K <= LP_BRANCH_SHARE * m:
        return "lp-branch"
    return "branch" if K <= AUTO_BRANCH_K else "master-mip"


def _root(P, w, K, ctx, stats):
    """The heuristic's menu, the Benders LP bound, and a descent from the LP point."""
    t1 = time.perf_counter()
    bounder = _Bounder(P, w, K, ctx)
    # A gap below 1e-6 is left to the exact finish: shakes would rarely close it.
    menu, figures = search_menu(P, w, K, ctx.rng, bounder, settle_gap=1e-6, deadline=ctx.deadline)
    lp = bounder.lp
    best = Incumbent(P, w, menu)
    stats.update(figures, **lp.stats, lp_bound=lp.bound, heuristic_objective=best.value,
                 heuristic_s=time.perf_counter() - t1 - lp.stats["benders_s"])
    # The LP point is often nearly integral: descents from its roundings can find what the
    # sampled search missed (rl1304, p = 200: the LP bound is the optimum). The first pass costs
    # about a cut round: skipped when that would end past the deadline. The randomized roundings
    # get a quarter of the root's time so far.
    left = ctx.remaining()
    if best.value < lp.bound and (left is None or left > 2 * lp.stats["benders_round_s"]):
        found = descend_from_lp(P, w, K, lp.y, ctx.rng, budget_s=0.25 * (time.perf_counter() - t1),
                                deadline=ctx.deadline, reserve_s=2 * lp.stats["benders_round_s"])
        for menu in found:
            if best.offer(menu):
                stats["incumbent"] = "descent from the LP point"
        stats["lp_descents"] = len(found)
    return best, lp


class _Bounder(LPBounder):
    """The root's LP bound, with one cut per row while the master stays small (the master MIP
    finish needs them, B17) or the rows' cuts are sparse at the search's menu (few nonzeros per
    row or in all)."""

    def __init__(self, P, w, K, ctx):
        super().__init__(P, w, K, deadline=ctx.deadline, seed=ctx.highs_seed)

    def __call__(self, menu):
        if self.lp is None:
            self.options["max_groups"] = _max_groups(self.P, menu)
        return super().__call__(menu)


def _max_groups(P, menu) -> int:
    """(B4) n, i.e. a cut per row, when the master stays small or the row cuts at ``menu`` are
    sparse (few nonzeros per row or in all); else 512 groups."""
    n = P.shape[0]
    if n <= ROW_CUT_ROWS:
        return n
    nnz = _mean_cut_nnz(P, menu) if n <= SPARSE_ROW_CUT_ROWS else np.inf
    return n if nnz <= SPARSE_CUT_NNZ or n * nnz <= ROW_CUT_NNZ else 512


def _mean_cut_nnz(P, menu) -> float:
    """Mean number of columns beating a row's value on ``menu``: a row cut's nonzeros there (B4)."""
    level = rows.best_on(P, menu)
    beats, = rows.map_reduce(P, lambda s, b: (np.count_nonzero(b > level[s][:, None]),))
    return beats / P.shape[0]


def _finish_master_mip(P, w, K, ctx, best, lp, keep, stats, highs):
    """(B17) the master re-solved as a MIP, with the cuts of each new menu."""
    chosen, bound, figures = master_mip(P, w, K, best.menu, lp, keep, deadline=ctx.deadline, mip_gap=ctx.mip_gap,
                                        threads=highs["threads"], seed=ctx.highs_seed,
                                        polish=lambda menu: swap_search(P, w, menu, deadline=ctx.deadline)[0])
    stats.update(figures)
    best.offer(chosen)
    return bound


def _finish_lp_branch(P, w, K, ctx, best, lp, keep, stats, highs):
    """(B16) branch and bound on node LPs of the root's master."""
    chosen, _, bound, figures = lp_branch_and_bound(P, w, K, best.menu, lp, allowed=keep, deadline=ctx.deadline,
                                                    gap_tol=ctx.mip_gap, progress=ctx.progress)
    stats.update(figures)
    best.offer(chosen)
    return bound


def _finish_on_survivors(P, w, K, ctx, best, lp, keep, stats, highs):
    """Lagrangian branch and bound (B11-B13) or the radius MIP on the surviving columns, whose
    rows are merged again (rows that differ only in dropped columns become one)."""
    left = ctx.remaining()
    if left is not None and left < FINISH_ROUNDS * lp.stats["benders_round_s"]:
        # The root node alone reads P about twice (1.6 s per subgradient step at 10^6 x 101,
        # a cut round 1.5 s): started this late it would end past the deadline with no node
        # searched (noisy 10^6 x 101, K = 10, time_limit = 20: 27.0 s).
        stats["finish"] = f"time limit before the {stats['finish']} finish"
        return np.inf
    cols = np.flatnonzero(keep)
    if cols.size < P.shape[1]:
        first, inverse = identical_rows(P[:, cols])
        Pr = np.ascontiguousarray(P[first][:, cols])
        wr = np.bincount(inverse, weights=w, minlength=first.size)
    else:    # rows equal on every column were merged before the root (merging only saves time)
        first, inverse, Pr, wr = np.arange(P.shape[0]), np.arange(P.shape[0]), P, w
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
        chosen, _, bound, figures = branch_and_bound(Pr, wr, K, start, mu, deadline=ctx.deadline, gap_tol=ctx.mip_gap,
                                                     progress=ctx.progress)
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
    priced, figures = priced_bound(data, values, lambda Q, w, K: _pmedian(Q, w, K, ctx), deadline=ctx.deadline)
    stats.update(figures)
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
    # (C10) up to HANDOVER_NODES nodes, then the assignment MIP (HiGHS' cuts and branching on x)
    # from the best menu found, when it is small enough to build.
    small = _pairs(data) <= STRONG_MAX_PAIRS
    bound, figures = constrained_branch_and_bound(data, bounder, values, mu, beta, deadline=ctx.deadline,
                                                  gap_tol=ctx.mip_gap, root_iter=30,
                                                  max_nodes=HANDOVER_NODES if small else None, progress=ctx.progress)
    stats.update(figures)
    complete = figures["bb_complete"]
    if not complete and small and not ctx.expired():
        stats["finish"] = "branch and bound (L2), then the assignment MIP (C10)"
        mip_bound, figures = _assignment_mip(data, values, ctx, highs)
        stats.update(figures)
        bound = min(bound, max(mip_bound, values.value))
        complete = figures["termination"] == "optimal"
    return EngineResult.from_menus(values, min(L, bound), stats, complete=complete)


def _pairs(data) -> int:
    """(group, treatment) pairs of the assignment MIP (C1)-(C8)."""
    return int(data.eligible.sum()) if data.eligible is not None else data.G * data.k


def _pmedian(P, w, K, ctx):
    """The unconstrained exact flow on ``P`` (n, m), ``w`` (n,): (best menu, proven upper bound);
    the inner problem of the priced bound (C9)."""
    red = reduce_problem(Problem.from_data(P, w))
    if K >= red.profits.shape[1]:
        return red.columns, float(w @ P.max(axis=1))
    found = _ladder(red.profits, red.weights, K)
    if found is not None:
        return red.columns[found[0]], found[1]
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
    {"formulation": Option("auto", "exact model: Benders (auto; the single-peaked DP when every row is "
                                   "single-peaked), the DP (ladder) or the compact radius / strong MIP",
                           choices=FORMULATIONS),
     "finish": Option("auto", "how Benders closes a gap the LP leaves (B11-B19; auto: B14)", choices=FINISHES),
     "threads": Option(None, "HiGHS threads (default: HiGHS' own)", kind=int, low=1),
     "verbose": Option(False, "HiGHS log on the console", kind=bool),
     "reduce": Option(True, "merge identical rows and drop dominated columns first", kind=bool)},
    constraints=True)
