"""Exact engine: reductions, a Pyomo formulation, HiGHS, and an incumbent that never loses.

The flow of :func:`exact_engine`: exact reductions (``coarse_mip.reductions``) -> greedy
menu (warm start and fallback incumbent) -> build the chosen formulation -> HiGHS ->
the better of HiGHS' incumbent and the greedy menu, paired with HiGHS' proven bound.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..engine import EngineResult
from ..heuristics.greedy import greedy_menu, pad_menu
from ..heuristics.swap import menu_value
from ..problem import Problem
from ..reductions import reduce_problem
from . import radius, strong
from .highs import run_highs

__all__ = ["exact_engine", "FORMULATIONS"]

logger = logging.getLogger(__name__)

FORMULATIONS = ("auto", "radius", "strong")


def exact_engine(problem: Problem, K: int, *, time_limit: float | None = None, mip_gap: float = 0.0,
                 seed: int = 0, formulation: str = "auto", threads: int | None = None,
                 verbose: bool = False, reduce: bool = True) -> EngineResult:
    """Solve to proven optimality (or to ``mip_gap``, or until ``time_limit`` seconds).

    ``formulation``: "radius" (aggregated Elloumi, formulations/radius.md), "strong"
    (formulations/strong.md), or "auto" (radius). ``reduce=False`` skips row merging and
    column dominance (for testing the formulations on raw data).
    """
    if formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be one of {FORMULATIONS}, got {formulation!r}")
    t0 = time.perf_counter()
    red = reduce_problem(problem, merge_rows=reduce, drop_dominated=reduce)
    P, w = red.profits, red.weights
    m = P.shape[1]
    stats = {"formulation": formulation, **red.stats(problem)}
    if K >= m:
        # Every surviving column fits on the menu: full personalization is optimal.
        stats["formulation"] = "trivial (K >= surviving columns)"
        return EngineResult(red.columns, problem.full_value(), stats)

    menu = greedy_menu(P, w, K)
    greedy_value = menu_value(P, w, menu)
    full = pad_menu(menu, K, m)
    name = "radius" if formulation == "auto" else formulation
    stats["formulation"] = name
    t1 = time.perf_counter()
    if name == "radius":
        nodes = radius.radius_nodes(P, w, K)
        model = radius.build_model(nodes, m, K)
        start = radius.start_values(model, nodes, P, full)
        stats.update(distinct_sets=nodes.J, set_occurrences=nodes.occurrences)
    else:
        model = strong.build_model(P, w, K)
        start = strong.start_values(model, P, full)
    stats["build_s"] = time.perf_counter() - t1

    remaining = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - t0))
    run = run_highs(model, [model.y[t] for t in range(m)], start=start, time_limit=remaining,
                    mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose)
    stats.update(run.stats)
    stats["greedy_objective"] = greedy_value
    stats["incumbent"] = "greedy"
    if run.values is not None:
        chosen = np.flatnonzero(run.values > 0.5)
        if chosen.size and menu_value(P, w, chosen) > greedy_value:
            menu = chosen
            stats["incumbent"] = "highs"
    return EngineResult(red.columns[menu], run.bound, stats)

