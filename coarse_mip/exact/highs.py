"""The one place that runs HiGHS on a Pyomo model and reads the results back.

Pyomo's persistent HiGHS interface (``pyomo.contrib.solver``) translates the model; this
module then sets the options explicitly (time limit, relative and absolute MIP gap, threads,
seed), passes a warm start, runs HiGHS and reads status, incumbent, dual bound and values in
HiGHS' documented order. It never raises on a time limit or an open gap: the status is data.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

__all__ = ["HighsRun", "run_highs", "TERMINATION"]

logger = logging.getLogger(__name__)

_S = highspy.HighsModelStatus
#: Every HiGHS model status mapped to our termination names; anything else is "unknown".
TERMINATION = {
    _S.kOptimal: "optimal",
    _S.kTimeLimit: "time_limit",
    _S.kIterationLimit: "limit",
    _S.kSolutionLimit: "limit",
    _S.kObjectiveBound: "limit",
    _S.kObjectiveTarget: "limit",
    _S.kMemoryLimit: "memory_limit",
    _S.kInterrupt: "interrupted",
    _S.kHighsInterrupt: "interrupted",
    _S.kInfeasible: "infeasible",
    _S.kUnboundedOrInfeasible: "infeasible_or_unbounded",
    _S.kUnbounded: "unbounded",
    _S.kNotset: "unknown",
    _S.kUnknown: "unknown",
    _S.kModelEmpty: "unknown",
    _S.kLoadError: "error",
    _S.kModelError: "error",
    _S.kPresolveError: "error",
    _S.kSolveError: "error",
    _S.kPostsolveError: "error",
}

#: Absolute MIP gap handed to HiGHS (its default 1e-6 would stop early on small objectives).
MIP_ABS_GAP = 1e-9


@dataclass
class HighsRun:
    """What one HiGHS run proved and found (objective and bound in the model's sense)."""

    termination: str
    raw_status: str
    objective: float | None          # incumbent objective, None when no primal solution
    bound: float                     # dual bound (+inf for maximization when none)
    values: np.ndarray | None        # values of the requested variables, None without incumbent
    stats: dict = field(default_factory=dict)


def run_highs(model: pyo.ConcreteModel, read: list, *, start: list | None = None,
              time_limit: float | None = None, mip_gap: float = 0.0, threads: int | None = None,
              seed: int = 0, verbose: bool = False) -> HighsRun:
    """Solve ``model`` (one maximization objective) with HiGHS.

    Parameters
    ----------
    model : pyomo ConcreteModel
        Built by a formulation module; not modified.
    read : list of Pyomo VarData
        Variables whose values are returned (as a float array, in this order).
    start : list of Pyomo VarData, optional
        MIP start: these variables at 1, all others at 0.
    time_limit, mip_gap, threads, seed, verbose
        HiGHS' ``time_limit``, ``mip_rel_gap``, ``threads``, ``random_seed``, ``output_flag``.
    """
    t0 = time.perf_counter()
    opt = Highs()
    opt.set_instance(model)
    handoff_s = time.perf_counter() - t0
    h = opt._solver_model           # the highspy object Pyomo filled (documented in TOOLCHAIN)
    col_of = opt._pyomo_var_to_solver_var_map

    options = {"output_flag": bool(verbose), "log_to_console": bool(verbose),
               "mip_rel_gap": float(mip_gap), "mip_abs_gap": MIP_ABS_GAP,
               "random_seed": int(seed) % 2_147_483_647}
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 0.0)
    if threads is not None:
        options["threads"] = int(threads)
    for key, value in options.items():
        h.setOptionValue(key, value)

    if start:
        x0 = np.zeros(h.getNumCol())
        x0[[col_of[id(v)] for v in start]] = 1.0
        sol = highspy.HighsSolution()
        sol.col_value = x0.tolist()
        h.setSolution(sol)

    t1 = time.perf_counter()
    h.run()
    solve_s = time.perf_counter() - t1

    status = h.getModelStatus()
    raw = h.modelStatusToString(status)
    termination = TERMINATION.get(status)
    if termination is None:
        warnings.warn(f"unmapped HiGHS status {raw!r}; reported as 'unknown'", RuntimeWarning, stacklevel=2)
        termination = "unknown"
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2   # 2 = feasible, per HighsInfo docs
    objective = float(info.objective_function_value) if has_solution else None
    if info.mip_node_count >= 0:
        bound = float(info.mip_dual_bound)
    else:                            # an LP: its optimal value is its dual bound
        bound = objective if termination == "optimal" and objective is not None else float("inf")
    if not np.isfinite(bound):
        bound = float("inf")
    values = None
    if has_solution:
        cols = np.fromiter((col_of[id(v)] for v in read), dtype=np.intp, count=len(read))
        values = np.asarray(h.getSolution().col_value)[cols]
    stats = {
        "solver": f"HiGHS {h.version()}",
        "solver_status": raw,
        "termination": termination,
        "rows": int(h.getNumRow()), "cols": int(h.getNumCol()), "nonzeros": int(h.getNumNz()),
        "bb_nodes": int(info.mip_node_count),
        "handoff_s": handoff_s, "solve_s": solve_s,
        "highs_options": options,
    }
    logger.debug("HiGHS %s obj=%s bound=%s in %.3fs", raw, objective, bound, solve_s)
    return HighsRun(termination, raw, objective, bound, values, stats)
