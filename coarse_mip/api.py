"""The public entry points: :func:`solve` and :func:`profit_curve`."""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
import pandas as pd

from . import rows
from ._progress import progress as progress_bar
from ._validation import check_K
from .constraints import Constraints
from .engines import ENGINES, SolveContext
from .engines.out_of_core import run_out_of_core
from .kernels.transport import TRANSPORT_GAP
from .problem import Problem
from .solution import Solution, certify, no_solution

__all__ = ["solve", "profit_curve", "METHODS"]

logger = logging.getLogger("coarse_mip")

#: The method names ``solve`` takes, in documentation order.
METHODS = tuple(ENGINES)


def solve(profits, K, method: str = "exact", *, weights=None, constraints: Constraints | None = None,
          time_limit: float | None = None, mip_gap: float = 0.0, seed=0, progress: bool = False,
          **options) -> Solution:
    """Choose at most ``K`` treatments and assign every individual to one of them.

    .. math::

        \\max_{S \\subseteq \\{1..m\\},\\, |S| \\le K} \\; \\sum_i w_i \\max_{t \\in S} P_{it}

    Parameters
    ----------
    profits : array-like of shape (n, m) or DataFrame
        Profit of each individual under each candidate treatment (higher is better).
        DataFrame column names become the treatment labels.
    K : int or None
        Largest number of distinct treatments offered (K >= m is full personalization). None
        only with ``constraints`` holding a ``fixed_cost``: as many as pay for themselves.
    method : {"exact", "heuristic", "lloyd", "greedy", "enumerate"}, default="exact"
        Engine. "exact" proves optimality with a Pyomo model solved by HiGHS; "heuristic"
        (greedy + swap local search + VNS shakes) and "lloyd" (the paper's alternating
        algorithm) carry the LP bound; "greedy" is fast with a loose bound; "enumerate"
        scores every menu (small instances).
    weights : array-like of shape (n,), default=None
        Non-negative weights of individuals (default 1).
    constraints : Constraints, default=None
        Side constraints (loads, shares, budget, eligibility, required / forbidden treatments,
        fixed costs; formulations/constrained.md). The assignment is then the best one under
        them, ``Solution.duals`` holds shadow prices, the status may be "infeasible", and
        optimality is proven to ``max(mip_gap, 1e-6)``. Taken by exact, heuristic, lloyd and
        enumerate.
    time_limit : float, default=None
        Wall-clock seconds; on expiry the best solution and its proven bound are returned
        with status "feasible" (never an exception).
    mip_gap : float, default=0.0
        Relative gap at which a solution counts as optimal.
    progress : bool, default=False
        A bar of branch-and-bound nodes with the incumbent and the open bound (on a terminal).
    seed : int, Generator or None, default=0
        Seed of every randomized step; HiGHS' ``random_seed`` is drawn from it (and recorded
        in ``stats["highs_seed"]``). None draws fresh entropy.
    **options
        Engine options, listed with their defaults by ``coarse_mip.engines.ENGINES[method].options``:
        exact takes ``formulation``, ``finish``, ``threads``, ``verbose``, ``reduce``;
        heuristic takes ``shakes``, ``patience``, ``bound`` ("lp" | "none"), ``sample_rows``;
        lloyd takes ``restarts``, ``max_iter``, ``bound``; enumerate takes ``max_work``.

    Returns
    -------
    Solution
        Treatments, labels, assignment, objective, bound, gap, status, method, runtime, stats.

    Raises
    ------
    ValueError
        Invalid profits, weights, K, method, option or limits, or constraints that conflict in
        a way decidable before solving (the message names the conflict).

    Examples
    --------
    >>> import coarse_mip as cm
    >>> sol = cm.solve([[3, 0, 1], [0, 2, 1], [0, 0, 2]], K=2, method="enumerate")
    >>> sol.treatments, sol.objective, sol.status
    ((0, 2), 6.0, 'optimal')
    """
    t0 = time.perf_counter()
    problem = Problem.from_data(profits, weights)
    spec = ENGINES.get(method)
    if spec is None:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    side = _side_constraints(constraints, problem, K, spec)
    K = check_K(K) if side is None else side.K
    ctx = SolveContext.create(time_limit=time_limit, mip_gap=mip_gap, seed=seed, progress=progress)
    options = spec.resolve(options)
    lazy = None if rows.in_memory(problem.profits) else problem.profits
    if lazy is None:
        result = spec.run(problem, K, ctx, **options) if side is None else spec.run(problem, K, ctx, side=side,
                                                                                    **options)
    else:
        result, problem = run_out_of_core(spec, problem, K, ctx, options, side)
    stats = dict(result.stats, highs_seed=ctx.highs_seed)
    runtime = time.perf_counter() - t0
    if result.menu is None:
        proven = stats.get("infeasible", False)
        sol = no_solution(problem, method=method, runtime_s=runtime, status="infeasible" if proven else "no_solution",
                          bound=result.bound, mip_gap=ctx.mip_gap, stats=stats,
                          reason="no menu admits an assignment that meets the constraints" if proven
                          else "no feasible menu found before the search stopped")
        logger.info("%s K=%d: %s (%s)", method, K, sol.status, sol.stats["reason"])
        return sol
    gap = ctx.mip_gap
    if side is not None and side.coupled:
        # Menus are valued by integer programs solved to TRANSPORT_GAP: no finer gap is proven.
        stats["mip_gap_requested"] = gap
        gap = max(gap, TRANSPORT_GAP)
    sol = certify(problem, K, result.menu, result.bound, method=method, runtime_s=runtime, mip_gap=gap,
                  stats=stats, side=side, assignment=result.assignment, duals=result.duals)
    if lazy is not None and isinstance(sol.assignment, np.ndarray):
        # Rows beyond memory get their assignment in the same storage, whichever path solved them.
        import dask.array as da
        sol = dataclasses.replace(sol, assignment=da.from_array(sol.assignment, chunks=(lazy.chunks[0],)))
    logger.info("%s K=%d: %s objective=%.10g bound=%.10g gap=%.2e in %.2fs", method, K,
                sol.status, sol.objective, sol.bound, sol.gap, sol.runtime_s)
    return sol


def _side_constraints(constraints, problem: Problem, K, spec):
    """Resolved side constraints, or None when there are none (the unconstrained engines run)."""
    if constraints is None:
        if K is None:
            raise ValueError("K=None needs constraints with a fixed_cost (as many treatments as pay for themselves)")
        return None
    if not isinstance(constraints, Constraints):
        raise ValueError(f"constraints must be a coarse_mip.Constraints, got {type(constraints).__name__}")
    if constraints.is_empty():
        if K is None:
            raise ValueError("K=None needs constraints with a fixed_cost (as many treatments as pay for themselves)")
        return None
    if K is not None:
        K = check_K(K)
    if not spec.constraints:
        takers = [name for name, s in ENGINES.items() if s.constraints]
        raise ValueError(f"method {spec.name!r} does not take side constraints; use one of {takers}")
    return constraints.resolve(problem, K)


def profit_curve(profits, Ks=range(1, 11), method: str = "exact", *, weights=None, progress: bool = True,
                 **kwargs) -> pd.DataFrame:
    """Solve for each K and tabulate how much of full personalization each K recovers.

    Returns a DataFrame with one row per K: ``K, objective, bound, gap, status,
    n_treatments, labels, share`` (objective / full-personalization value),
    ``bound_share`` and ``seconds``; ``attrs`` holds the full-personalization value and the
    method. ``kwargs`` go to :func:`solve`. ``progress``: a bar over K on a terminal.
    """
    problem = Problem.from_data(profits, weights)
    full = problem.full_value()
    records = []
    Ks = list(Ks)
    for K in progress_bar(Ks, desc="profit curve (K)", total=len(Ks), enabled=progress):
        sol = solve(problem, K, method, **kwargs)
        records.append({"K": int(K), "objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
                     "status": sol.status, "n_treatments": len(sol.treatments),
                     "labels": list(sol.labels),
                     "share": sol.objective / full if full > 0 else np.nan,
                     "bound_share": sol.bound / full if full > 0 else np.nan,
                     "seconds": sol.runtime_s})
    df = pd.DataFrame(records)
    df.attrs.update(full_personalization=full, method=method)
    return df
