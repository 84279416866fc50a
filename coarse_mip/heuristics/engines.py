"""Heuristic engines behind ``solve(method=...)``: greedy, heuristic (greedy + swap + VNS),
lloyd (the paper's algorithm), and enumerate (the exhaustive oracle).

Each returns an :class:`~coarse_mip.engine.EngineResult`; the heuristic ones pair their menu
with the LP bound (``bound="lp"``) or the full-personalization value (``bound="none"``).
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..engine import EngineResult
from ..problem import Problem
from ..reductions import reduce_problem
from .bounds import lp_bound
from .enumerate import enumerate_menus
from .greedy import greedy_menu, pad_menu
from .lloyd import lloyd_menu
from .swap import menu_value, swap_search

__all__ = ["enumerate_engine", "greedy_engine", "heuristic_engine", "lloyd_engine"]

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


def heuristic_engine(problem: Problem, K: int, *, time_limit: float | None = None, seed=0,
                     shakes: int = 20, bound: str = "lp", **_) -> EngineResult:
    """Greedy + swap local search, then VNS shakes (replace 1..3 random columns, search again).

    The LP bound is computed first (so a certificate is always there) and the shakes stop
    as soon as it proves the incumbent optimal. ``time_limit`` covers the whole run.
    """
    return _run_heuristic(problem, K, time_limit, seed, bound,
                          lambda P, w, k, rng, deadline, target: _vns(P, w, k, rng, deadline, shakes, target))


def lloyd_engine(problem: Problem, K: int, *, time_limit: float | None = None, seed=0,
                 restarts: int = 10, max_iter: int = 100, bound: str = "lp", **_) -> EngineResult:
    """The paper's Lloyd-style alternation, best of ``restarts`` k-means++-like starts."""
    return _run_heuristic(problem, K, time_limit, seed, bound,
                          lambda P, w, k, rng, deadline, target: lloyd_menu(P, w, k, rng=rng, restarts=restarts,
                                                                            max_iter=max_iter))


def _run_heuristic(problem, K, time_limit, seed, bound, search) -> EngineResult:
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
    ub = problem.full_value()
    stats["bound_source"] = "full personalization"
    if bound == "lp":
        lp, lp_stats = lp_bound(P, w, K, time_limit=time_limit, seed=int(rng.integers(2**31)))
        if lp < ub:
            ub = lp
            stats.update(lp_stats)
    t1 = time.perf_counter()
    menu, figures = search(P, w, K, rng, deadline, ub)
    stats.update(figures, search_s=time.perf_counter() - t1)
    return EngineResult(red.columns[menu], ub, stats)


def _vns(P, w, K, rng, deadline, shakes, target):
    menu, swaps = swap_search(P, w, pad_menu(greedy_menu(P, w, K), K, P.shape[1]), deadline=deadline)
    value = menu_value(P, w, menu)
    m = P.shape[1]
    improved = 0
    for s in range(shakes):
        if value >= target - 1e-9 * max(1.0, abs(target)):
            break                    # the bound proves the incumbent optimal
        if deadline is not None and time.perf_counter() >= deadline:
            break
        depth = min(1 + s % 3, K, m - K)
        if depth < 1:
            break
        trial = menu.copy()
        out = rng.choice(K, size=depth, replace=False)
        trial[out] = rng.choice(np.setdiff1d(np.arange(m), menu), size=depth, replace=False)
        trial, more = swap_search(P, w, trial, deadline=deadline)
        swaps += more
        trial_value = menu_value(P, w, trial)
        if trial_value > value:
            menu, value, improved = trial, trial_value, improved + 1
    return menu, {"swaps": swaps, "shakes": shakes, "shake_improvements": improved}

