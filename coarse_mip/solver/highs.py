"""One HiGHS session per model: translation from Pyomo, options, warm starts, status read-back.

A model given as arrays (:class:`LinearProgram`), or a Pyomo model compiled to those arrays by
Pyomo's public standard-form compiler (``LinearStandardFormCompiler``), is passed to a
``highspy.Highs`` object in one call; cuts, bounds and integrality are then changed on that
object, never by rebuilding. Options are set
here and only here (time limit, relative and absolute MIP gap, threads, seed, output), and
results are read in HiGHS' documented order: model status, then info (objective, dual bound,
primal solution status), then values. A time limit or an open gap is data, never an exception.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.common.tee import capture_output
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

__all__ = ["ITERATION_UNLIMITED", "MIP_ABS_GAP", "TERMINATION", "HighsResult", "HighsRun", "HighsSession",
           "LinearProgram", "run_highs"]

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

#: HiGHS' own default ``simplex_iteration_limit``: none.
ITERATION_UNLIMITED = 2_147_483_647
#: Absolute MIP gap handed to HiGHS (its default 1e-6 would stop early on small objectives).
MIP_ABS_GAP = 1e-9
#: HiGHS' ``random_seed`` is a non-negative int32.
_SEED_MOD = 2_147_483_647
#: ``primal_solution_status`` value meaning a feasible point is held (HighsInfo docs).
_FEASIBLE = 2

_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A fresh ``highspy.Highs``; the copyright banner it prints once per process is captured."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    with capture_output(capture_fd=True):
        h = highspy.Highs()
    _banner_shown = True
    return h


@dataclass(frozen=True)
class HighsResult:
    """What one ``run`` proved and found (objective and bound in the model's sense)."""

    termination: str
    raw_status: str
    objective: float | None          # incumbent objective, None when no primal solution
    bound: float                     # dual bound (+inf for maximization when none)
    has_solution: bool
    nodes: int                       # branch-and-bound nodes, -1 for an LP
    solve_s: float
    last_objective: float = np.nan   # the objective of the last point held, feasible or not


@dataclass(frozen=True)
class LinearProgram:
    """A linear (mixed-integer) program as arrays: ``max/min c x + offset`` subject to
    ``row_lower <= A x <= row_upper`` and ``col_lower <= x <= col_upper``, ``x_j`` integer where
    ``integer[j]``. ``A`` is any scipy sparse matrix of shape (rows, cols)."""

    c: np.ndarray
    A: sp.spmatrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray | None = None
    maximize: bool = True
    offset: float = 0.0


class HighsSession:
    """A linear program held in one HiGHS object, for one or many runs.

    Built from arrays (:class:`LinearProgram`) or from a Pyomo model (:meth:`from_pyomo`).

    Attributes
    ----------
    h : highspy.Highs
        The HiGHS object (for reading; change it through the methods below).
    options : dict
        Every option this session set, as set (recorded in each engine's stats).
    handoff_s : float
        Seconds spent translating the model and handing it to HiGHS.
    """

    def __init__(self, program: LinearProgram):
        t0 = time.perf_counter()
        A = sp.csc_matrix(program.A)
        rows, cols = A.shape
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = cols, rows
        lp.col_cost_ = np.asarray(program.c, dtype=np.float64)
        lp.offset_ = float(program.offset)
        lp.col_lower_ = np.asarray(program.col_lower, dtype=np.float64)
        lp.col_upper_ = np.asarray(program.col_upper, dtype=np.float64)
        lp.row_lower_ = np.asarray(program.row_lower, dtype=np.float64)
        lp.row_upper_ = np.asarray(program.row_upper, dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = cols, rows
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data.astype(np.float64)
        if program.integer is not None and np.any(program.integer):
            lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                               for i in program.integer]
        lp.sense_ = highspy.ObjSense.kMaximize if program.maximize else highspy.ObjSense.kMinimize
        self.h = _new_highs()
        self.options: dict = {}
        self._mip = program.integer is not None and bool(np.any(program.integer))
        self._time_limit: float | None = None
        self._stop = np.inf              # perf_counter() at which the MIP callback interrupts HiGHS
        self._interrupted = False
        self._watching = False
        self.configure(verbose=False)
        self.h.passModel(lp)
        self._column: dict = {}
        self._row_of: dict = {}
        self.handoff_s = time.perf_counter() - t0

    @classmethod
    def from_pyomo(cls, model: pyo.ConcreteModel, *, first: Sequence = ()) -> "HighsSession":
        """Compile ``model`` (one linear objective; bounded, Binary or Integer variables; not
        modified) with Pyomo's standard-form compiler. ``first``: variables placed first, in this
        order, so their HiGHS columns are ``0..len(first)-1``."""
        t0 = time.perf_counter()
        form = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None,
                                                  column_order=list(first) or None)
        objective, = form.objectives
        sense = np.array([s for _, s in form.rows], dtype=np.int8)
        rhs = np.asarray(form.rhs, dtype=np.float64)
        n = len(form.columns)
        program = LinearProgram(
            c=np.asarray(form.c.toarray()[0] if n else [], dtype=np.float64),
            A=form.A,
            row_lower=np.where(sense == 1, -np.inf, rhs),        # (con, 1): body <= rhs
            row_upper=np.where(sense == -1, np.inf, rhs),        # (con, -1): body >= rhs
            col_lower=np.array([-np.inf if v.lb is None else v.lb for v in form.columns], dtype=np.float64),
            col_upper=np.array([np.inf if v.ub is None else v.ub for v in form.columns], dtype=np.float64),
            integer=np.array([v.is_integer() for v in form.columns], dtype=bool),
            maximize=objective.sense == pyo.maximize, offset=float(form.c_offset[0]))
        session = cls(program)
        session._column = {id(v): j for j, v in enumerate(form.columns)}
        for j, (con, _) in enumerate(form.rows):
            session._row_of.setdefault(id(con), j)
        session.handoff_s = time.perf_counter() - t0
        return session

    # -- model ---------------------------------------------------------------------------
    def columns(self, variables: Sequence) -> np.ndarray:
        """HiGHS column of each Pyomo variable, shape (len(variables),)."""
        try:
            return np.fromiter((self._column[id(v)] for v in variables), dtype=np.intp, count=len(variables))
        except KeyError:
            missing = next(v for v in variables if id(v) not in self._column)
            raise KeyError(f"variable {missing.name} appears in no constraint or objective of the model") from None

    def rows(self, constraints: Sequence) -> np.ndarray:
        """HiGHS row of each Pyomo constraint (its first row when it is ranged)."""
        return np.fromiter((self._row_of[id(c)] for c in constraints), dtype=np.intp, count=len(constraints))

    @property
    def num_cols(self) -> int:
        return int(self.h.getNumCol())

    @property
    def num_rows(self) -> int:
        return int(self.h.getNumRow())

    def add_rows(self, lower: np.ndarray, upper: np.ndarray, starts: np.ndarray, index: np.ndarray,
                 value: np.ndarray) -> None:
        """Append rows ``lower <= A x <= upper`` given in CSR form (starts, column index, value)."""
        self.h.addRows(len(lower), np.asarray(lower, np.float64), np.asarray(upper, np.float64), len(index),
                       np.asarray(starts, np.int32), np.asarray(index, np.int32), np.asarray(value, np.float64))

    def delete_rows(self, rows: np.ndarray) -> None:
        """Delete the listed rows; the rows after them move up (HiGHS keeps the basis of the rest)."""
        rows = np.asarray(rows, np.int32)
        if rows.size:
            self.h.deleteRows(len(rows), rows)

    def forget_basis(self) -> None:
        """The next run starts from scratch, not from the last basis."""
        self.h.clearSolver()

    def set_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        self.h.changeColsBounds(len(cols), np.asarray(cols, np.int32), np.asarray(lower, np.float64),
                                np.asarray(upper, np.float64))

    def set_integer(self, cols: np.ndarray) -> None:
        cols = np.asarray(cols, np.int32)
        self.h.changeColsIntegrality(len(cols), cols, np.full(len(cols), highspy.HighsVarType.kInteger))
        self._mip = self._mip or cols.size > 0

    def set_start(self, x: np.ndarray) -> None:
        """A full starting point (every column), e.g. a MIP start."""
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(x, dtype=np.float64).tolist()
        self.h.setSolution(sol)

    def start_at_one(self, variables: Sequence) -> None:
        """MIP start: ``variables`` at 1, every other column at 0."""
        x = np.zeros(self.num_cols)
        x[self.columns(variables)] = 1.0
        self.set_start(x)

    # -- options and runs ------------------------------------------------------------------
    def configure(self, *, time_limit: float | None = None, mip_gap: float | None = None,
                  threads: int | None = None, seed: int | None = None, verbose: bool | None = None,
                  lp_solver: str | None = None, iteration_limit: int | None = None) -> dict:
        """Set the options given (None leaves one as it is); returns every option set so far.

        ``time_limit``: seconds for each later run. ``lp_solver``: "simplex", "ipm" (interior
        point, with crossover to a vertex) or "choose". ``iteration_limit``: simplex iterations
        of an LP run (``ITERATION_UNLIMITED`` lifts it).
        """
        options = {}
        if lp_solver is not None:
            options["solver"] = lp_solver
            if lp_solver == "ipm":
                options["run_crossover"] = "on"
        if verbose is not None:
            options.update(output_flag=bool(verbose), log_to_console=bool(verbose))
        if mip_gap is not None:
            options.update(mip_rel_gap=float(mip_gap), mip_abs_gap=MIP_ABS_GAP)
        if seed is not None:
            options["random_seed"] = int(seed) % _SEED_MOD
        if time_limit is not None:
            options["time_limit"] = max(float(time_limit), 0.0)
        if threads is not None:
            options["threads"] = int(threads)
        if iteration_limit is not None:
            options["simplex_iteration_limit"] = int(iteration_limit)
        for key, value in options.items():
            if key == "time_limit":
                self._time_limit = value         # set at each run, see there
            else:
                self.h.setOptionValue(key, value)
        self.options.update(options)
        return dict(self.options)

    def run(self) -> HighsResult:
        """Run HiGHS and read status, incumbent objective and dual bound back."""
        if self._time_limit is not None:
            # HiGHS 1.16 checks an LP's time limit against the object's run time summed over
            # every run (a MIP's against its own run): without the offset, once the runs of
            # a session had taken longer than the limit, every later LP stopped at once.
            offset = 0.0 if self._mip else self.h.getRunTime()
            self.h.setOptionValue("time_limit", self._time_limit + offset)
        t0 = time.perf_counter()
        self._interrupted = False
        if self._mip and self._time_limit is not None:
            # HiGHS checks a MIP's time limit coarsely: a 600 s master MIP on usa13509 ran 45 s
            # over it. Its MIP callback interrupts once our own clock says the time is up.
            self._watch()
            self._stop = t0 + self._time_limit
        self.h.run()
        solve_s = time.perf_counter() - t0
        self._stop = np.inf
        status = self.h.getModelStatus()
        raw = self.h.modelStatusToString(status)
        termination = "time_limit" if self._interrupted else TERMINATION.get(status)
        if termination is None:
            warnings.warn(f"unmapped HiGHS status {raw!r}; reported as 'unknown'", RuntimeWarning, stacklevel=2)
            termination = "unknown"
        info = self.h.getInfo()
        has_solution = info.primal_solution_status == _FEASIBLE
        objective = float(info.objective_function_value) if has_solution else None
        if info.mip_node_count >= 0:
            bound = float(info.mip_dual_bound)
        else:                        # an LP: its optimal value is its dual bound
            bound = objective if termination == "optimal" and objective is not None else float("inf")
        if not np.isfinite(bound):
            bound = float("inf")
        logger.debug("HiGHS %s obj=%s bound=%s in %.3fs", raw, objective, bound, solve_s)
        return HighsResult(termination, raw, objective, bound, has_solution, int(info.mip_node_count), solve_s,
                           float(info.objective_function_value))

    def feed_solutions(self, improve) -> None:
        """During later MIP runs: ``improve(x)`` sees each improving solution ``x`` (all columns)
        and may return a better point, which HiGHS takes as a user solution at its next call for
        one (kCallbackMipUserSolution), so it prunes with it in the same run."""
        pending: list = []

        def on_improving(event):
            better = improve(np.array(event.data_out.mip_solution))
            if better is not None:
                pending[:] = [np.asarray(better, dtype=np.float64)]

        def on_user(event):
            if pending:
                event.data_in.setSolution(pending.pop())

        self.h.cbMipImprovingSolution += on_improving
        self.h.cbMipUserSolution += on_user

    def _watch(self) -> None:
        """Subscribe (once) the MIP interrupt callback that enforces ``time_limit`` on our clock."""
        if self._watching:
            return

        def interrupt(event):
            # HiGHS keeps the flag into the next run of the object: set it either way.
            late = time.perf_counter() > self._stop
            self._interrupted |= late
            event.interrupt(late)

        self.h.cbMipInterrupt += interrupt
        self._watching = True

    def values(self, cols: np.ndarray | None = None) -> np.ndarray:
        """Primal values of the columns (all by default)."""
        x = np.asarray(self.h.getSolution().col_value)
        return x if cols is None else x[cols]

    def column_duals(self, cols: np.ndarray | None = None) -> np.ndarray:
        """Reduced costs of the columns (all by default) at the last LP."""
        d = np.asarray(self.h.getSolution().col_dual)
        return d if cols is None else d[cols]

    def row_duals(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Dual values of the rows (all by default) at the last LP."""
        d = np.asarray(self.h.getSolution().row_dual)
        return d if rows is None else d[rows]

    def stats(self, result: HighsResult) -> dict:
        """Figures of a run for ``Solution.stats``."""
        return {"solver": f"HiGHS {self.h.version()}", "solver_status": result.raw_status,
                "termination": result.termination, "rows": self.num_rows, "cols": self.num_cols,
                "nonzeros": int(self.h.getNumNz()), "bb_nodes": result.nodes, "handoff_s": self.handoff_s,
                "solve_s": result.solve_s, "highs_options": dict(self.options)}


@dataclass
class HighsRun:
    """One run of a model: its result and the values of the variables asked for."""

    termination: str
    raw_status: str
    objective: float | None
    bound: float
    values: np.ndarray | None        # values of the requested variables, None without incumbent
    stats: dict = field(default_factory=dict)


def run_highs(model: pyo.ConcreteModel, read: list, *, start: list | None = None,
              time_limit: float | None = None, mip_gap: float = 0.0, threads: int | None = None,
              seed: int = 0, verbose: bool = False) -> HighsRun:
    """Solve ``model`` once: a :class:`HighsSession`, its options, a MIP start, one run.

    ``read``: Pyomo variables whose values are returned (in this order); ``start``: MIP start,
    these variables at 1 and all others at 0.
    """
    session = HighsSession.from_pyomo(model, first=read)
    session.configure(time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed, verbose=verbose)
    if start:
        session.start_at_one(start)
    result = session.run()
    values = session.values(session.columns(read)) if result.has_solution else None
    return HighsRun(result.termination, result.raw_status, result.objective, result.bound, values,
                    session.stats(result))
