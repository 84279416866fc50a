"""The Solution type, how an engine's menu becomes one, and its certificate check.

Every engine hands back a menu (chosen columns) and a proven upper bound; :func:`certify`
turns that into a :class:`Solution` in one place, so the invariants hold for all engines:

* the assignment puts each individual on its best chosen treatment (ties: lowest index);
* the objective is recomputed from the assignment with numpy;
* ``bound >= objective`` and the bound never exceeds the full-personalization value;
* ``status == "optimal"`` only when the gap is closed to within ``mip_gap``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from . import rows
from .problem import Problem

__all__ = ["Solution", "certify", "no_solution", "objective_of", "relative_gap", "spend_of", "violations", "GAP_TOL"]

#: Relative slack for floating-point noise in solver bounds (HiGHS works to ~1e-9 relative).
GAP_TOL = 1e-9


def relative_gap(objective: float, bound: float) -> float:
    """``(bound - objective) / max(|bound|, 1e-9)``, the gap convention of the API."""
    return max(0.0, (bound - objective) / max(abs(bound), 1e-9))


@dataclass(frozen=True, repr=False)
class Solution:
    """K chosen treatments, an assignment, and the proof of how good they are.

    Attributes
    ----------
    treatments : tuple of int
        Chosen column indices that serve at least one individual, ascending; ``len <= K``.
    labels : tuple
        The chosen columns' labels (DataFrame column names, else the indices).
    assignment : ndarray of shape (n,)
        Column index given to each individual; each is in ``treatments``.
    objective : float
        ``sum_i w_i * profits[i, assignment[i]]``.
    bound : float
        Proven upper bound on the optimum (``== objective`` when proven optimal at gap 0).
    gap : float
        ``(bound - objective) / max(|bound|, 1e-9)``, >= 0.
    status : str
        ``"optimal"`` (gap <= mip_gap), ``"feasible"`` (bound not closed), ``"infeasible"``
        (proven: no assignment meets the constraints; ``stats["reason"]`` says why) or
        ``"no_solution"`` (none found before the time limit; ``bound`` is what was proven).
    method : str
        Engine name.
    runtime_s : float
        Wall seconds of the whole solve.
    stats : dict
        Engine figures: model size, reductions, solver status text, options used, the rule
        that produced the assignment (``stats["assignment_rule"]``), ...
    duals : dict
        With side constraints: shadow prices from the LP of the assignment at the returned
        menu, what one more unit is worth: ``{"max_load": {label: price}, "min_load": {...},
        "budget": price}``. Empty otherwise.
    """

    treatments: tuple
    labels: tuple
    assignment: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    method: str
    runtime_s: float
    stats: dict = field(default_factory=dict)
    duals: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Solution(status={self.status!r}, objective={self.objective:.10g}, "
                f"bound={self.bound:.10g}, gap={self.gap:.3g}, labels={list(self.labels)!r}, "
                f"method={self.method!r}, runtime_s={self.runtime_s:.3g})")

    def to_dict(self, assignment: bool = False) -> dict:
        """JSON-ready dict of the contract fields (the assignment only if asked)."""
        d = {
            "treatments": [int(t) for t in self.treatments],
            "labels": [_jsonable(x) for x in self.labels],
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "status": self.status,
            "method": self.method,
            "runtime_s": self.runtime_s,
            "duals": {key: ({_json_key(k): v for k, v in value.items()} if isinstance(value, dict) else value)
                      for key, value in self.duals.items()},
            "stats": json.loads(json.dumps(self.stats, default=_jsonable)),
        }
        if assignment:
            d["assignment"] = self.assignment.tolist()
        return d

    def check(self, profits, K: int | None = None, weights=None, rtol: float = 1e-7, *,
              constraints=None) -> None:
        """Re-check the certificate against the data; raise ValueError listing what fails.

        Checks that the assignment uses only chosen treatments, that each individual is on its
        best chosen treatment (without coupling constraints) or that every constraint holds
        (with them, see :func:`violations`), that the objective (net of fixed costs) matches
        the data, that ``bound >= objective`` and that ``len(treatments) <= K``. The bound
        itself can only be checked against an independent optimum (e.g. enumeration); that
        is the tests' job.
        """
        problem = Problem.from_data(profits, weights)
        side = None
        if constraints is not None and not constraints.is_empty():
            side = constraints.resolve(problem, K if K is not None else None)
        if self.status in ("infeasible", "no_solution"):
            return
        menu = np.asarray(self.treatments, dtype=np.intp)
        a = np.asarray(self.assignment)
        if a.shape != (problem.n,):
            raise ValueError(f"assignment has shape {a.shape}, expected ({problem.n},)")
        errors = []
        if menu.size == 0 or np.any(np.diff(menu) <= 0) or menu[0] < 0 or menu[-1] >= problem.m:
            errors.append(f"treatments {tuple(self.treatments)} are not sorted unique columns")
        if K is not None and menu.size > K:
            errors.append(f"{menu.size} treatments > K = {K}")
        if not np.isin(a, menu).all():
            errors.append("assignment uses a treatment outside the chosen ones")
        if not errors:
            errors += violations(problem, side, menu, a, self.objective, rtol=rtol)
        if self.bound < self.objective - rtol * max(1.0, abs(self.objective)):
            errors.append(f"bound {self.bound!r} < objective {self.objective!r}")
        if self.status == "optimal" and self.gap > self.stats.get("mip_gap", 0.0) + 1e-6:
            errors.append(f"status optimal with gap {self.gap!r}")
        if errors:
            raise ValueError("certificate check failed: " + "; ".join(errors))


def _used_and_value(P, w: np.ndarray, menu: np.ndarray) -> tuple[np.ndarray, float]:
    """The columns of ``menu`` some row is assigned to, and ``sum_i w_i max_{t in menu} P[i, t]``."""
    m = P.shape[1]

    def block(s, b):
        sub = b[:, menu]
        return np.bincount(menu[np.argmax(sub, axis=1)], minlength=m), w[s] @ sub.max(axis=1)

    counts, value = rows.map_reduce(P, block, ("sum", "sum"))
    return np.flatnonzero(counts), float(value)


def objective_of(problem: Problem, side, menu: np.ndarray, assignment: np.ndarray) -> float:
    """``sum_i w_i P[i, a(i)]`` minus the fixed costs of the offered ``menu``."""
    value = float(problem.weights @ problem.profits[np.arange(problem.n), assignment])
    return value - (float(side.fixed[menu].sum()) if side is not None else 0.0)


def violations(problem: Problem, side, menu: np.ndarray, assignment: np.ndarray, objective: float,
               rtol: float = 1e-7) -> list[str]:
    """Every way ``(menu, assignment)`` breaks the problem, as sentences (empty when none).

    Loads and the budget are checked to a relative tolerance ``rtol`` of their bound (at least
    ``rtol`` absolute); the objective to ``rtol`` relative to the largest profit.
    """
    P, n = problem.profits, problem.n
    errors = []
    got = P[np.arange(n), assignment]
    scale = max(1.0, float(np.abs(P).max()))
    if side is None or not side.coupled and side.eligible is None:
        best = rows.best_on(P, menu)
        if (got < best - rtol * scale).any():
            errors.append("some individual is not on its best chosen treatment")
    if side is not None:
        if side.forbidden[menu].any():
            errors.append(f"forbidden treatment(s) {[problem.labels[t] for t in menu[side.forbidden[menu]]]} offered")
        missing = np.flatnonzero(side.required & ~np.isin(np.arange(problem.m), menu))
        if missing.size:
            errors.append(f"required treatment(s) {[problem.labels[t] for t in missing]} not offered")
        if side.eligible is not None and not side.eligible[np.arange(n), assignment].all():
            errors.append(f"individual {int(np.argmin(side.eligible[np.arange(n), assignment]))} is not eligible "
                          "for its treatment")
        load = np.bincount(assignment, weights=side.usage, minlength=problem.m)[menu]
        for t, have in zip(menu, load, strict=True):
            if have > side.hi[t] + rtol * max(1.0, abs(side.hi[t])):
                errors.append(f"load {have:g} of {problem.labels[t]!r} above its max {side.hi[t]:g}")
            if have < side.lo[t] - rtol * max(1.0, abs(side.lo[t])):
                errors.append(f"load {have:g} of {problem.labels[t]!r} below its min {side.lo[t]:g}")
        if side.budget is not None:
            spend = spend_of(problem, side, assignment)
            if spend > side.budget + rtol * max(1.0, abs(side.budget)):
                errors.append(f"spend {spend:g} above the budget {side.budget:g}")
    obj = objective_of(problem, side, menu, assignment)
    if not math.isclose(obj, objective, rel_tol=rtol, abs_tol=rtol * scale):
        errors.append(f"objective {objective!r} != recomputed {obj!r}")
    return errors


def spend_of(problem: Problem, side, assignment: np.ndarray) -> float:
    """``sum_i w_i cost[i, a(i)]``."""
    rows_ = np.arange(problem.n)
    cost = side.cost[assignment] if side.cost.ndim == 1 else side.cost[rows_, assignment]
    return float(problem.weights @ cost)


def certify(problem: Problem, K: int, menu, bound: float, *, method: str, runtime_s: float,
            mip_gap: float = 0.0, stats: dict | None = None, side=None, assignment=None,
            duals: dict | None = None) -> Solution:
    """Turn an engine's menu and proven bound into a checked :class:`Solution`.

    Without side constraints the assignment is every individual's best chosen treatment;
    with them the engine's ``assignment`` (n,) is checked against every constraint
    (:func:`violations`) and the offered treatments are those it uses plus the required ones.
    ``bound`` is capped by the full-personalization value (always valid). An infeasible
    assignment, or a bound below the recomputed objective beyond floating-point noise, is a
    bug in the engine: RuntimeError.
    """
    P = problem.profits
    stats = dict(stats or {})
    if side is None:
        menu = np.unique(np.asarray(menu, dtype=np.intp))
        if menu.size == 0 or menu.size > K:
            raise RuntimeError(f"engine {method!r} returned {menu.size} treatments for K = {K}")
        stats.setdefault("assignment_rule", "best chosen treatment")
        if rows.in_memory(P):
            assignment = rows.assign(P, menu)
            used = np.unique(assignment)
        else:                             # rows beyond memory: a lazy assignment, figures by one pass
            assignment = rows.assign(P, menu, lazy=True)
            used, objective = _used_and_value(P, problem.weights, menu)
    else:
        assignment = np.asarray(assignment, dtype=np.intp).copy()
        menu = np.union1d(np.unique(assignment), np.flatnonzero(side.required))
        if menu.size > side.K:
            raise RuntimeError(f"engine {method!r} returned {menu.size} treatments for K = {side.K}")
        stats.setdefault("assignment_rule", "transport (best assignment under the constraints)" if side.coupled
                         or side.eligible is not None else "best chosen treatment")
    if isinstance(assignment, np.ndarray):
        assignment.flags.writeable = False
        objective = objective_of(problem, side, menu, assignment)
    if side is not None:
        broken = violations(problem, side, menu, assignment, objective, rtol=1e-7)
        if broken:
            raise RuntimeError(f"engine {method!r} returned an infeasible answer: {'; '.join(broken)}")
    full = problem.full_value()
    if side is None and K >= problem.m:
        bound = full
    bound = min(float(bound), full)
    slack = GAP_TOL * max(1.0, abs(objective))
    if bound < objective - slack * 1e3:
        raise RuntimeError(f"engine {method!r}: bound {bound!r} below objective {objective!r}")
    if bound - objective <= slack:
        stats.setdefault("bound_raw", bound)
        bound = objective
    gap = relative_gap(objective, bound)
    stats["mip_gap"] = float(mip_gap)
    status = "optimal" if gap <= mip_gap + GAP_TOL else "feasible"
    treatments = tuple(int(t) for t in (menu if side is not None else used))
    return Solution(
        treatments=treatments,
        labels=tuple(problem.labels[t] for t in treatments),
        assignment=assignment,
        objective=objective,
        bound=bound,
        gap=gap,
        status=status,
        method=method,
        runtime_s=float(runtime_s),
        stats=stats,
        duals=_label_duals(problem, duals),
    )


def no_solution(problem: Problem, *, method: str, runtime_s: float, status: str, bound: float, reason: str,
                mip_gap: float = 0.0, stats: dict | None = None) -> Solution:
    """The answer when no feasible assignment exists (``status="infeasible"``, proven) or none was
    found in time (``"no_solution"``, with the bound proven so far): no treatments, every
    individual at -1, objective NaN; ``stats["reason"]`` says why."""
    if status not in ("infeasible", "no_solution"):
        raise ValueError(f"no_solution takes status 'infeasible' or 'no_solution', got {status!r}")
    stats = dict(stats or {}, reason=reason, mip_gap=float(mip_gap))
    assignment = np.full(problem.n, -1, dtype=np.intp)
    assignment.flags.writeable = False
    return Solution(treatments=(), labels=(), assignment=assignment, objective=float("nan"),
                    bound=float("-inf") if status == "infeasible" else float(bound), gap=float("nan"),
                    status=status, method=method, runtime_s=float(runtime_s), stats=stats)


def _label_duals(problem: Problem, duals: dict | None) -> dict:
    """Shadow prices keyed by treatment label (loads) and the budget's price."""
    if not duals:
        return {}
    out = {}
    for key in ("max_load", "min_load"):
        if key in duals:
            out[key] = {problem.labels[int(t)]: float(v) for t, v in duals[key].items()}
    if "budget" in duals:
        out["budget"] = float(duals["budget"])
    return out


def _json_key(x):
    x = _jsonable(x)
    return x if isinstance(x, (str, int, float, bool)) else str(x)


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)
