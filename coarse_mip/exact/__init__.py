"""Exact engine: reductions, then a compact MIP or Benders, and an incumbent that never loses.

* ``formulation="radius"`` / ``"strong"``: exact reductions -> greedy menu (warm start and
  fallback incumbent) -> the compact Pyomo model -> HiGHS.
* ``formulation="benders"`` (formulations/benders.md): the heuristic's menu -> the Benders LP
  cut loop (bound, better roundings) -> VNS if a gap is left -> reduced-cost fixing (B10) ->
  Lagrangian branch and bound (B11-B13, K <= 10) or branch and bound on node LPs (B16, K > 10)
  on the surviving columns (the radius MIP on request).
* ``formulation="auto"``: Benders (on OR-Library pmed1, 100 x 100, the radius MIP took 1.5-2 s
  where Benders took 0.02 s).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..engine import EngineResult
from ..heuristics.engines import search_menu
from ..heuristics.greedy import greedy_menu, pad_menu
from ..heuristics.swap import menu_value, swap_search
from ..problem import Problem
from ..reductions import identical_rows, reduce_problem
from . import radius, strong
from .benders import Incumbent, benders_lp, master_mip
from .branch import branch_and_bound, lp_branch_and_bound
from .highs import run_highs

__all__ = ["exact_engine", "FORMULATIONS", "FINISHES"]

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


def exact_engine(problem: Problem, K: int, *, time_limit: float | None = None, mip_gap: float = 0.0,
                 seed: int = 0, formulation: str = "auto", threads: int | None = None,
                 verbose: bool = False, reduce: bool = True, finish: str = "auto") -> EngineResult:
    """Solve to proven optimality (or to ``mip_gap``, or until ``time_limit`` seconds).

    ``finish`` (Benders only): "branch" (formulations/benders.md B11-B13), "lp-branch" (B16),
    "master-mip" (B17), "radius" (the radius MIP on the columns that survive B10), or "auto"
    (branch up to ``AUTO_BRANCH_K``, lp-branch above; B18).
    ``reduce=False`` skips row merging and column dominance (for testing the formulations on
    raw data).
    """
    if formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
    if finish not in FINISHES:
        raise ValueError(f"finish must be one of {FINISHES}, got {finish!r}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    red = reduce_problem(problem, merge_rows=reduce, drop_dominated=reduce)
    P, w = red.profits, red.weights
    stats = {"formulation": formulation, **red.stats(problem)}
    if K >= P.shape[1]:
        # Every surviving column fits on the menu: full personalization is optimal.
        stats["formulation"] = "trivial (K >= surviving columns)"
        return EngineResult(red.columns, problem.full_value(), stats)
    name = formulation
    if name == "auto":
        name = "benders"
    stats["formulation"] = name
    options = dict(deadline=deadline, mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose)
    if name == "benders":
        menu, bound = _benders(P, w, K, stats, finish=finish, **options)
    else:
        menu = greedy_menu(P, w, K)
        menu, bound = _compact(P, w, K, name, menu, stats, **options)
    return EngineResult(red.columns[menu], bound, stats)


def _compact(P, w, K, name, menu, stats, *, deadline, mip_gap, threads, seed, verbose, nodes=None):
    """Solve the radius or strong model from ``menu``; returns (best menu, HiGHS' bound).

    ``nodes``: the radius nodes when already computed."""
    m = P.shape[1]
    value = menu_value(P, w, menu)
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
    remaining = None if deadline is None else max(0.0, deadline - time.perf_counter())
    run = run_highs(model, [model.y[t] for t in range(m)], start=start, time_limit=remaining,
                    mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose)
    stats.update(run.stats)
    stats["start_objective"] = value
    stats["incumbent"] = "start"
    if run.values is not None:
        chosen = np.flatnonzero(run.values > 0.5)
        if chosen.size and menu_value(P, w, chosen) > value:
            menu = chosen
            stats["incumbent"] = "highs"
    return menu, run.bound


def _benders(P, w, K, stats, *, finish, deadline, mip_gap, threads, seed, verbose):
    """Heuristic menu -> Benders LP -> VNS -> reduced-cost fixing (B10) -> branch and bound or
    the radius MIP on the surviving columns."""
    rng = np.random.default_rng(seed)
    found = {}

    def bounder(menu):
        # Per-row cuts while the master stays small: the master MIP finish needs them (B17).
        groups = P.shape[0] if P.shape[0] <= ROW_CUT_ROWS else 512
        found["lp"] = lp = benders_lp(P, w, K, menu, seed=seed, deadline=deadline, max_groups=groups)
        return lp.menu, lp.value, lp.bound          # lp.menu is ``menu`` unless a rounding beat it

    t1 = time.perf_counter()
    # A gap below 1e-6 is left to the exact finish: shakes would rarely close it.
    menu, figures = search_menu(P, w, K, rng, bounder, settle_gap=1e-6, deadline=deadline)
    lp = found["lp"]
    best = Incumbent(P, w, menu)
    stats.update(figures, **lp.stats, lp_bound=lp.bound, heuristic_objective=best.value,
                 heuristic_s=time.perf_counter() - t1 - lp.stats["benders_s"])
    # The LP point is often nearly integral: a descent from its rounding can find what the
    # sampled search missed (rl1304, p = 200: the LP bound is the optimum).
    if best.offer(swap_search(P, w, np.sort(np.argpartition(-lp.y, K - 1)[:K]), deadline=deadline)[0]):
        stats["incumbent"] = "descent from the LP point"
    value = best.value
    scale = max(1.0, abs(value))
    if value >= lp.bound - max(mip_gap * abs(value), 1e-9 * scale):
        stats["finish"] = "LP bound"
        return best.menu, lp.bound
    if deadline is not None and time.perf_counter() >= deadline:
        stats["finish"] = "time limit before the MIP"
        return best.menu, lp.bound
    # (B10) a column whose reduced cost says y_t = 1 caps the value below the incumbent's
    # appears in no better menu: drop it (with a margin for LP round-off).
    keep = lp.master_value + lp.reduced_costs >= value - 1e-7 * scale
    keep[best.menu] = True
    cols = np.flatnonzero(keep)
    finisher = finish if finish != "auto" else ("branch" if K <= AUTO_BRANCH_K else "lp-branch")
    stats.update(columns_fixed_to_zero=int(P.shape[1] - cols.size), finish=finisher)
    if cols.size <= K:
        return best.menu, value           # only the incumbent's columns can do as well
    # Menus using a dropped column are worth less than ``value``, so every finish's bound is
    # raised to at least ``value``; all of them are valid and the smallest is reported.
    bounds = [lp.bound]
    if finisher == "master-mip":
        chosen, mm_bound, figures = master_mip(P, w, K, best.menu, lp, keep, deadline=deadline,
                                               mip_gap=mip_gap, threads=threads, seed=seed)
        stats.update(figures)
        best.offer(chosen)
        bounds.append(max(mm_bound, value))
    elif finisher == "lp-branch":
        chosen, _, finish_bound, figures = lp_branch_and_bound(P, w, K, best.menu, lp, allowed=keep,
                                                               deadline=deadline, gap_tol=mip_gap)
        stats.update(figures)
        best.offer(chosen)
        bounds.append(max(finish_bound, value))
    else:
        first, inverse = identical_rows(P[:, cols])
        Pr = np.ascontiguousarray(P[first][:, cols])
        wr = np.bincount(inverse, weights=w, minlength=first.size)
        stats["finish_rows"] = int(first.size)
        start = np.searchsorted(cols, best.menu)
        nodes = None
        if finisher == "radius":
            nodes = radius.radius_nodes(Pr, wr, K)
            if nodes.J > MAX_FINISH_SETS:
                finisher = stats["finish"] = "branch"
        if finisher == "branch":
            mu = np.full(first.size, -np.inf)
            np.maximum.at(mu, inverse, lp.multipliers)      # merged rows: any one level is valid (B11)
            chosen, _, finish_bound, figures = branch_and_bound(Pr, wr, K, start, mu, deadline=deadline,
                                                                gap_tol=mip_gap)
            stats.update(figures)
        else:
            chosen, finish_bound = _compact(Pr, wr, K, "radius", start, stats, nodes=nodes, deadline=deadline,
                                            mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose)
        best.offer(cols[chosen])
        bounds.append(max(finish_bound, value))
    return best.menu, min(bounds)
