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

__all__ = ["Solution", "certify", "relative_gap", "GAP_TOL"]

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
        ``"optimal"`` (gap <= mip_gap) or ``"feasible"`` (bound not closed).
    method : str
        Engine name.
    runtime_s : float
        Wall seconds of the whole solve.
    stats : dict
        Engine figures: model size, reductions, solver status text, options used, ...
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
            "stats": json.loads(json.dumps(self.stats, default=_jsonable)),
        }
        if assignment:
            d["assignment"] = self.assignment.tolist()
        return d

    def check(self, profits, K: int | None = None, weights=None, rtol: float = 1e-7) -> None:
        """Re-check the certificate against the data; raise ``AssertionError``-free ValueError.

        Checks that the assignment uses only chosen treatments, that each individual is on
        its best chosen treatment, that the objective matches the data, that
        ``bound >= objective`` and that ``len(treatments) <= K``. The bound itself can only be
        checked against an independent optimum (e.g. enumeration); that is the tests' job.
        """
        problem = Problem.from_data(profits, weights)
        P, w = problem.profits, problem.weights
        menu = np.asarray(self.treatments, dtype=np.intp)
        a = np.asarray(self.assignment)
        errors = []
        if a.shape != (problem.n,):
            raise ValueError(f"assignment has shape {a.shape}, expected ({problem.n},)")
        if menu.size == 0 or np.any(np.diff(menu) <= 0) or menu[0] < 0 or menu[-1] >= problem.m:
            errors.append(f"treatments {tuple(self.treatments)} are not sorted unique columns")
        if K is not None and menu.size > K:
            errors.append(f"{menu.size} treatments > K = {K}")
        if not np.isin(a, menu).all():
            errors.append("assignment uses a treatment outside the chosen ones")
        if not errors:
            got = P[np.arange(problem.n), a]
            best = rows.best_on(P, menu)
            scale = max(1.0, float(np.abs(P).max()))
            if (got < best - rtol * scale).any():
                errors.append("some individual is not on its best chosen treatment")
            obj = float(w @ got)
            if not math.isclose(obj, self.objective, rel_tol=rtol, abs_tol=rtol * scale):
                errors.append(f"objective {self.objective!r} != recomputed {obj!r}")
        if self.bound < self.objective - rtol * max(1.0, abs(self.objective)):
            errors.append(f"bound {self.bound!r} < objective {self.objective!r}")
        if self.status == "optimal" and self.gap > self.stats.get("mip_gap", 0.0) + 1e-6:
            errors.append(f"status optimal with gap {self.gap!r}")
        if errors:
            raise ValueError("certificate check failed: " + "; ".join(errors))


def certify(problem: Problem, K: int, menu, bound: float, *, method: str, runtime_s: float,
            mip_gap: float = 0.0, stats: dict | None = None) -> Solution:
    """Turn an engine's menu and proven bound into a checked :class:`Solution`.

    ``bound`` is capped by the full-personalization value (always valid). A bound below the
    recomputed objective beyond floating-point noise is a bug in the engine: RuntimeError.
    """
    menu = np.unique(np.asarray(menu, dtype=np.intp))
    if menu.size == 0 or menu.size > K:
        raise RuntimeError(f"engine {method!r} returned {menu.size} treatments for K = {K}")
    P, w = problem.profits, problem.weights
    assignment = rows.assign(P, menu)
    assignment.flags.writeable = False
    objective = float(w @ P[np.arange(problem.n), assignment])
    full = problem.full_value()
    if K >= problem.m:
        bound = full
    bound = min(float(bound), full)
    slack = GAP_TOL * max(1.0, abs(objective))
    stats = dict(stats or {})
    if bound < objective - slack * 1e3:
        raise RuntimeError(f"engine {method!r}: bound {bound!r} below objective {objective!r}")
    if bound - objective <= slack:
        stats.setdefault("bound_raw", bound)
        bound = objective
    gap = relative_gap(objective, bound)
    stats["mip_gap"] = float(mip_gap)
    status = "optimal" if gap <= mip_gap + GAP_TOL else "feasible"
    treatments = tuple(int(t) for t in np.unique(assignment))
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
    )


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)
