"""The exhaustive oracle as an engine: every menu scored; its best value is its own proof."""

from __future__ import annotations

import math

from ..kernels import MenuValues
from ..problem import Problem
from ..reductions import group_individuals
from ..search import enumerate_constrained, enumerate_menus
from ..search.enumerate import MAX_WORK
from .spec import EngineResult, EngineSpec, Option, SolveContext

__all__ = ["ENUMERATE"]


def enumerate_engine(problem: Problem, K: int, ctx: SolveContext, *, max_work: int, side=None) -> EngineResult:
    """Exhaustive search over all menus of ``min(K, m)`` columns; under side constraints, over
    every menu, each valued by its exact transport step."""
    if side is not None:
        data = group_individuals(problem, side)
        values = MenuValues(data)
        enumerate_constrained(data, values)
        return EngineResult.from_menus(values, max(values.value, values.upper), data.stats(problem), complete=True)
    menu, value = enumerate_menus(problem.profits, problem.weights, K, max_work=max_work)
    return EngineResult(menu, value, {"menus": math.comb(problem.m, min(problem.m, K))})


ENUMERATE = EngineSpec(
    "enumerate", "every menu, vectorized (small instances); exact by exhaustion", enumerate_engine,
    {"max_work": Option(MAX_WORK, "largest C(m, K) * n * K entries touched", kind=int, low=1)},
    constraints=True)
