"""Heuristic engines: ``heuristic`` (greedy + swaps + VNS), ``lloyd`` (the paper's algorithm) and
``greedy``; the first two pair their menu with the LP bound of the Benders cut loop
(formulations/benders.md) or, with ``bound="none"``, the full-personalization value."""

from __future__ import annotations

import time

import numpy as np

from .. import rows
from ..bounds import LPBounder
from ..bounds.priced import priced_bound
from ..kernels import MenuValues
from ..problem import Problem
from ..reductions import group_individuals, reduce_problem
from ..search import constrained_lloyd, greedy_menu, lagrangian_search, lloyd_menu, search_menu, unconstrained_start
from .spec import EngineResult, EngineSpec, Option, SolveContext

__all__ = ["HEURISTIC", "LLOYD", "GREEDY"]

#: Under constraints, a priced bound (C9) this close (relative) is not refined by the Lagrangian.
PRICED_ENOUGH = 1e-4

_BOUND = Option("lp", "upper bound carried: the LP relaxation (Benders cut loop) or full personalization",
                choices=("lp", "none"))


def heuristic_engine(problem: Problem, K: int, ctx: SolveContext, *, shakes: int, patience: int, bound: str,
                     sample_rows: int, side=None) -> EngineResult:
    """Greedy + swap local search, the bound, then VNS shakes while the bound leaves a gap
    (:func:`~coarse_mip.search.search_menu`). The time limit covers the whole run; the bound's
    cut loop and the shakes stop once the gap is at most ``mip_gap``.

    Under side constraints: the Lagrangian heuristic (every Lagrangian menu of the root's
    subgradient steps valued by the transport step) and swaps, with the Lagrangian bound (L2).
    """
    if side is not None:
        data = group_individuals(problem, side)
        values = MenuValues(data, deadline=ctx.deadline)
        values.offer(unconstrained_start(data))

        def pmedian(Q, w, k):            # the priced p-median by the heuristic's own search and LP bound
            bounder = LPBounder(Q, w, k, deadline=ctx.deadline, seed=ctx.highs_seed)
            menu, _ = search_menu(Q, w, k, ctx.rng, bounder, shakes=shakes, patience=patience,
                                  sample_rows=sample_rows, settle_gap=1e-9, deadline=ctx.deadline)
            return menu, bounder.lp.bound

        bound, figures = priced_bound(data, values, pmedian, deadline=ctx.deadline)
        # The knapsack Lagrangian (much slower at 10^5 rows) only when the priced bound leaves more
        # than PRICED_ENOUGH (or the requested gap) open, or does not apply.
        tol = max(ctx.mip_gap, PRICED_ENOUGH) * max(1.0, abs(bound)) if np.isfinite(bound) else 0.0
        if not (np.isfinite(values.value) and bound - values.value <= tol):
            _, root, more = lagrangian_search(data, values, deadline=ctx.deadline)
            figures.update(more)
            bound = min(bound, root[0])
        return EngineResult.from_menus(values, bound, {**data.stats(problem), **figures}, complete=False)

    def search(P, w, bounder):
        return search_menu(P, w, K, ctx.rng, bounder, shakes=shakes, patience=patience, sample_rows=sample_rows,
                           settle_gap=max(ctx.mip_gap, 1e-9), deadline=ctx.deadline)

    return _bounded_search(problem, K, ctx, bound, search, adopt_bound_menu=True)


def lloyd_engine(problem: Problem, K: int, ctx: SolveContext, *, restarts: int, max_iter: int,
                 bound: str, side=None) -> EngineResult:
    """The paper's Lloyd-style alternation, best of ``restarts`` k-means++-like starts.

    The bound's cut loop also rounds its LP points into menus; Lloyd's answer is reported as
    it is (``stats["bound_menu_better"]`` says whether such a rounding did better). Under side
    constraints the assignment step is the transport step and the bound the Lagrangian (L2),
    whose menus are not adopted.
    """
    if side is not None:
        data = group_individuals(problem, side)
        values = MenuValues(data, deadline=ctx.deadline)
        figures = constrained_lloyd(data, values, ctx.rng, restarts=restarts, max_iter=max_iter,
                                    deadline=ctx.deadline)
        upper = problem.full_value()
        if bound == "lp":
            _, root, more = lagrangian_search(data, MenuValues(data), deadline=ctx.deadline, offer_menus=False)
            upper = min(upper, root[0])
            figures.update(more)
        return EngineResult.from_menus(values, upper, {**data.stats(problem), **figures}, complete=False)

    def search(P, w, bounder):
        return lloyd_menu(P, w, K, rng=ctx.rng, restarts=restarts, max_iter=max_iter)

    return _bounded_search(problem, K, ctx, bound, search, adopt_bound_menu=False)


def greedy_engine(problem: Problem, K: int, ctx: SolveContext) -> EngineResult:
    """Greedy only, with the full-personalization value as its (loose) bound."""
    menu = greedy_menu(problem.profits, problem.weights, K)
    return EngineResult(menu, problem.full_value(), {"bound_source": "full personalization"})


def _bounded_search(problem: Problem, K: int, ctx: SolveContext, bound: str, search, *,
                    adopt_bound_menu: bool) -> EngineResult:
    """Reduce, run ``search(P, w, bounder)``, and pair its menu with a bound.

    ``bounder(menu)`` runs the Benders LP cut loop once, seeded with ``menu``; a search that
    never calls it gets the bound afterwards. With ``adopt_bound_menu`` the loop's better
    roundings replace the search's menu.
    """
    red = reduce_problem(problem)
    P, w = red.profits, red.weights
    stats = red.stats(problem)
    if K >= P.shape[1]:
        return EngineResult(red.columns, problem.full_value(), stats)
    bounder = LPBounder(P, w, K, deadline=ctx.deadline, seed=ctx.highs_seed, gap_tol=max(ctx.mip_gap, 1e-9),
                        adopt_menu=adopt_bound_menu)
    t1 = time.perf_counter()
    if bound == "none":
        menu, figures = search(P, w, lambda menu: (menu, rows.menu_value(P, w, menu), problem.full_value()))
    else:
        menu, figures = search(P, w, bounder)
        if bounder.lp is None:
            menu, _, _ = bounder(menu)
    stats.update(figures)
    if bounder.lp is None:
        upper = problem.full_value()
        stats["bound_source"] = "full personalization"
    else:
        upper = min(problem.full_value(), bounder.lp.bound)
        stats.update(bounder.stats, bound_source="LP relaxation (Benders cut loop)",
                     bound_s=bounder.lp.stats["benders_s"])
    stats["search_s"] = time.perf_counter() - t1 - stats.get("bound_s", 0.0)
    return EngineResult(red.columns[menu], upper, stats)


HEURISTIC = EngineSpec(
    "heuristic", "greedy + swap local search (fast interchange) + VNS shakes, with the LP bound",
    heuristic_engine,
    {"shakes": Option(200, "largest number of VNS shakes", kind=int, low=0),
     "patience": Option(30, "stop after this many shakes in a row without improvement", kind=int, low=1),
     "bound": _BOUND,
     "sample_rows": Option(20_000, "above this many rows, search on a seeded sample and polish on all",
                           kind=int, low=1)},
    constraints=True)
LLOYD = EngineSpec(
    "lloyd", "the paper's Lloyd-style alternation from k-means++-like starts, with the LP bound",
    lloyd_engine,
    {"restarts": Option(10, "number of random starts", kind=int, low=1),
     "max_iter": Option(100, "alternations per start", kind=int, low=1),
     "bound": _BOUND},
    constraints=True)
GREEDY = EngineSpec("greedy", "add the best column K times; bound: full personalization (loose)", greedy_engine)
