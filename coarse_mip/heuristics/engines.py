"""Heuristic engines behind ``solve(method=...)``: greedy, heuristic (greedy + swap + VNS),
lloyd (the paper's algorithm), and enumerate (the exhaustive oracle).

Each returns an :class:`~coarse_mip.engine.EngineResult`; the heuristic ones pair their menu
with the LP bound from the Benders cut loop (``bound="lp"``, formulations/benders.md) or the
full-personalization value (``bound="none"``).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..engine import EngineResult
from ..exact.benders import benders_lp
from ..problem import Problem
from ..reductions import reduce_problem
from .enumerate import enumerate_menus
from .greedy import greedy_menu, pad_menu
from .lloyd import lloyd_menu
from .swap import menu_value, swap_search
from .vns import vns

__all__ = ["enumerate_engine", "greedy_engine", "heuristic_engine", "lloyd_engine", "search_menu"]

BOUNDS = ("lp", "none")


def enumerate_engine(problem: Problem, K: int, *, max_work: int | None = None, **_) -> EngineResult:
    """Exhaustive search over all menus; its best value is a proof, hence the bound."""
    kwargs = {} if max_work is None else {"max_work": max_work}
    menu, value = enumerate_menus(problem.profits, problem.weights, K, **kwargs)
    return EngineResult(menu, value, {"menus": math.comb(problem.m, min(problem.m, K))})


def greedy_engine(problem: Problem, K: int, **_) -> EngineResult:
    """Greedy only, with the full-personalization value as its (loose) bound."""
    menu = greedy_menu(problem.profits, problem.weights, K)
    return EngineResult(menu, problem.full_value(), {"bound_source": "full personalization"})


def heuristic_engine(problem: Problem, K: int, *, time_limit: float | None = None, mip_gap: float = 0.0,
                     seed=0, shakes: int = 200, patience: int = 30, bound: str = "lp",
                     sample_rows: int = 20_000, **_) -> EngineResult:
    """Greedy + swap local search, the bound, then VNS shakes while the bound leaves a gap
    (see :func:`search_menu`). ``time_limit`` covers the whole run; the bound's cut loop and
    the shakes stop once the gap is at most ``mip_gap``."""
    def search(P, w, k, rng, deadline, bounder):
        return search_menu(P, w, k, rng, bounder, shakes=shakes, patience=patience,
                           sample_rows=sample_rows, settle_gap=max(mip_gap, 1e-9), deadline=deadline)

    return _run_heuristic(problem, K, time_limit, seed, bound, search, mip_gap=mip_gap)


def search_menu(P: np.ndarray, w: np.ndarray, K: int, rng: np.random.Generator, bounder, *,
                shakes: int = 200, patience: int = 30, sample_rows: int = 20_000,
                settle_gap: float = 1e-9, deadline: float | None = None) -> tuple[np.ndarray, dict]:
    """Greedy + best-improvement swaps, then ``bounder(menu) -> (menu, value, bound)``, then VNS
    shakes unless the bound is within ``settle_gap`` (relative) of the menu's value.

    Above ``sample_rows`` rows the descent and the shakes run on a seeded row sample and each
    resulting menu is polished by swaps on all rows; values and bounds are always those of all
    rows. ``P`` (n, m), ``w`` (n,) > 0, ``1 <= K < m``. Returns (sorted menu (K,), figures).
    """
    full_P, full_w = P, w
    sampled = P.shape[0] > sample_rows
    if sampled:
        rows = np.sort(rng.choice(P.shape[0], size=sample_rows, replace=False))
        P, w = P[rows], w[rows]
    menu, swaps = swap_search(P, w, pad_menu(greedy_menu(P, w, K), K, P.shape[1]), deadline=deadline)
    if sampled:
        menu, polish = swap_search(full_P, full_w, menu, deadline=deadline)
        swaps += polish
    menu, value, target = bounder(menu)
    if value >= target - settle_gap * max(1.0, abs(target)):
        return menu, {"swaps": swaps, "shakes": 0, "shake_improvements": 0}
    shaken, figures = vns(P, w, menu, rng, shakes=shakes, patience=patience,
                          target=np.inf if sampled else target, deadline=deadline)
    figures["swaps"] += swaps
    if sampled:                      # better on the sample is not always better on all rows
        shaken, polish = swap_search(full_P, full_w, shaken, deadline=deadline)
        figures.update(sample_rows=sample_rows, polish_swaps=polish)
        if menu_value(full_P, full_w, shaken) <= value:
            return menu, figures
    return shaken, figures


def lloyd_engine(problem: Problem, K: int, *, time_limit: float | None = None, mip_gap: float = 0.0,
                 seed=0, restarts: int = 10, max_iter: int = 100, bound: str = "lp", **_) -> EngineResult:
    """The paper's Lloyd-style alternation, best of ``restarts`` k-means++-like starts.

    The bound's cut loop also rounds its LP points into menus; Lloyd's answer is reported as
    it is (``stats["bound_menu_better"]`` says whether such a rounding did better).
    """
    def search(P, w, k, rng, deadline, bounder):
        return lloyd_menu(P, w, k, rng=rng, restarts=restarts, max_iter=max_iter)

    return _run_heuristic(problem, K, time_limit, seed, bound, search, mip_gap=mip_gap, adopt_bound_menu=False)


def _run_heuristic(problem, K, time_limit, seed, bound, search, mip_gap=0.0, adopt_bound_menu=True) -> EngineResult:
    """Reduce, run ``search(P, w, K, rng, deadline, bounder)``, and pair its menu with a bound.

    ``bounder(menu)`` runs the Benders LP cut loop seeded with ``menu`` and returns (menu, its
    value, bound): the menu is the better of ``menu`` and the loop's roundings (if
    ``adopt_bound_menu``). A search that never calls it gets the bound afterwards.
    """
    if bound not in BOUNDS:
        raise ValueError(f"bound must be one of {BOUNDS}, got {bound!r}")
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    red = reduce_problem(problem)
    P, w = red.profits, red.weights
    stats = red.stats(problem)
    if K >= P.shape[1]:
        return EngineResult(red.columns, problem.full_value(), stats)
    rng = np.random.default_rng(seed)
    lp_seed = int(rng.integers(2**31))
    result = {"bound": problem.full_value()}
    stats["bound_source"] = "full personalization"

    def bounder(menu):
        if bound == "none" or "bounded" in result:
            return menu, menu_value(P, w, menu), result["bound"]
        result["bounded"] = True
        t = time.perf_counter()
        lp = benders_lp(P, w, K, menu, seed=lp_seed, gap_tol=max(mip_gap, 1e-9),
                        deadline=_at_least_a_moment(deadline))
        stats.update(lp.stats, bound_source="LP relaxation (Benders cut loop)", bound_s=time.perf_counter() - t)
        result["bound"] = min(result["bound"], lp.bound)
        # The loop's menu changes only when a rounding is strictly better than ``menu``.
        better = not np.array_equal(lp.menu, np.sort(menu))
        stats["bound_menu_better"] = better
        if better and not adopt_bound_menu:
            return menu, menu_value(P, w, menu), result["bound"]
        return lp.menu, lp.value, result["bound"]

    t1 = time.perf_counter()
    menu, figures = search(P, w, K, rng, deadline, bounder)
    stats.update(figures)
    if "bounded" not in result:
        menu, _, _ = bounder(menu)
    stats["search_s"] = time.perf_counter() - t1 - stats.get("bound_s", 0.0)
    return EngineResult(red.columns[menu], result["bound"], stats)


def _at_least_a_moment(deadline):
    """The bound gets a round even when the search used up the time limit (one round is cheap)."""
    return None if deadline is None else max(deadline, time.perf_counter() + 1e-3)
