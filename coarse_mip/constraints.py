"""Side constraints on the menu and the assignment: the transport marginals (formulations/constrained.md).

:class:`Constraints` holds what the user wrote (labels, scalars, dicts, arrays);
:meth:`Constraints.resolve` checks it against a :class:`~coarse_mip.problem.Problem` and K and
returns :class:`SideConstraints`, arrays in the problem's column order that the engines trust.
Every conflict that can be decided cheaply raises ``ValueError`` here, before any solve,
naming the conflict (C-checks in formulations/constrained.md).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ._validation import as_float_array, check_finite
from .problem import Problem

__all__ = ["Constraints", "SideConstraints"]

#: Relative tolerance of every constraint check (loads, budget) on a returned assignment.
FEASIBILITY_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Constraints:
    """Side constraints of a coarse-personalization problem.

    Parameters
    ----------
    max_load, min_load : scalar, array-like of shape (m,) or {label: value}, optional
        Bounds on the load of each treatment: the total ``usage`` of the individuals assigned
        to it. ``min_load`` applies to every treatment that is offered; a dict leaves the
        treatments it does not name unbounded.
    max_share, min_share : same forms, optional
        The same bounds as shares (0..1) of the total usage of all individuals.
    usage : array-like of shape (n,), optional
        Capacity each individual uses (non-negative); default: its weight.
    cost : scalar, array-like of shape (m,) or (n, m), or {label: value}, optional
        Cost of giving a treatment (per individual, weighted like the objective).
    budget : float, optional
        ``sum_i w_i cost[i, a(i)] <= budget``; needs ``cost``.
    eligible : array-like of bool, shape (n, m), optional
        ``eligible[i, t]``: individual i may receive treatment t.
    require, forbid : sequence of labels or column indices
        Treatments that must / must not be offered. A required treatment counts towards K and
        is listed in ``Solution.treatments`` even when it serves nobody.
    fixed_cost : scalar, array-like of shape (m,) or {label: value}, optional
        Paid once per offered treatment and subtracted from the objective; with it ``K=None``
        means "as many treatments as pay for themselves".
    """

    max_load: object = None
    min_load: object = None
    max_share: object = None
    min_share: object = None
    usage: object = None
    cost: object = None
    budget: float | None = None
    eligible: object = None
    require: tuple = ()
    forbid: tuple = ()
    fixed_cost: object = None

    def is_empty(self) -> bool:
        """True when nothing is constrained (then the unconstrained engines run unchanged)."""
        return all(_unset(getattr(self, f.name)) for f in fields(self))

    @classmethod
    def from_json(cls, path, *, columns: Mapping | None = None) -> "Constraints":
        """Read constraints from a JSON file (keys as the parameters, treatments by label).

        ``usage`` may name a column of ``columns`` (e.g. the profits file's other columns);
        ``cost`` given as a string and ``eligible`` are paths of CSV files with one column per
        treatment, read relative to the JSON file.
        """
        path = Path(path)
        try:
            spec = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read constraints {path}: {exc}") from None
        if not isinstance(spec, dict):
            raise ValueError(f"constraints {path}: expected a JSON object of constraints, got {type(spec).__name__}")
        unknown = sorted(set(spec) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"constraints {path}: unknown key(s) {unknown}; "
                             f"known: {[f.name for f in fields(cls)]}")
        if isinstance(spec.get("usage"), str):
            name = spec["usage"]
            if columns is None or name not in columns:
                raise ValueError(f"constraints {path}: usage column {name!r} is not in the profits file")
            spec["usage"] = np.asarray(columns[name], dtype=float)
        for key in ("cost", "eligible"):
            if isinstance(spec.get(key), str):
                spec[key] = _read_table(path.parent / spec[key], key)
        for key in ("require", "forbid"):
            if key in spec:
                spec[key] = tuple(spec[key]) if isinstance(spec[key], list) else (spec[key],)
        return cls(**spec)

    def resolve(self, problem: Problem, K: int | None) -> "SideConstraints":
        """Check every field against ``problem`` and ``K`` (None: no limit, needs fixed_cost).

        Raises
        ------
        ValueError
            Bad shapes, signs, NaN/inf, unknown labels, and every cheaply decidable conflict:
            required and forbidden at once, more required treatments than K, an individual
            with no eligible treatment, capacities that cannot hold the total usage with K
            treatments, min loads that cannot be met, a budget below the cheapest eligible
            assignment.
        """
        n, m = problem.n, problem.m
        w = problem.weights
        if K is None:
            if _unset(self.fixed_cost):
                raise ValueError("K=None (as many treatments as pay for themselves) needs fixed_cost")
            K = m
        if self.usage is None:
            u = w
        else:
            u = check_finite(as_float_array(self.usage, "usage"), "usage")
            if u.shape != (n,):
                raise ValueError(f"usage must have shape ({n},) to match the {n} rows, got {u.shape}")
            if (u < 0).any():
                i = int(np.flatnonzero(u < 0)[0])
                raise ValueError(f"usage must be non-negative; usage[{i}] = {u[i]!r}")
        total = float(u[w > 0].sum())
        hi = np.full(m, np.inf)
        lo = np.zeros(m)
        for name, value, scale, into, combine in (
                ("max_load", self.max_load, 1.0, hi, np.minimum), ("max_share", self.max_share, total, hi, np.minimum),
                ("min_load", self.min_load, 1.0, lo, np.maximum), ("min_share", self.min_share, total, lo, np.maximum)):
            if _unset(value):
                continue
            v = self._per_treatment(value, problem, name, fill=np.inf if into is hi else 0.0)
            if (v < 0).any():
                raise ValueError(f"{name} must be non-negative, got {problem.labels[int(np.argmax(v < 0))]!r}: "
                                 f"{v[v < 0][0]!r}")
            if name.endswith("share") and (v[np.isfinite(v)] > 1).any():
                raise ValueError(f"{name} is a share of the total usage and must be at most 1")
            combine(into, v * scale, out=into)
        required = self._columns(self.require, problem, "require")
        forbidden = self._columns(self.forbid, problem, "forbid")
        both = required & forbidden
        if both.any():
            raise ValueError(f"treatment(s) {_names(problem, both)} are both required and forbidden")
        if int(required.sum()) > K:
            raise ValueError(f"{int(required.sum())} required treatments {_names(problem, required)} exceed K = {K}")
        eligible = None
        if not _unset(self.eligible):
            eligible = np.asarray(_by_label(self.eligible, problem, "eligible"))
            if eligible.shape != (n, m):
                raise ValueError(f"eligible must have shape ({n}, {m}) to match profits, got {eligible.shape}")
            if eligible.dtype != bool:
                if not np.isin(eligible, (0, 1)).all():
                    raise ValueError("eligible must hold booleans (or 0/1)")
                eligible = eligible.astype(bool)
        allowed = ~forbidden
        # Columns that can never be offered (min load above max load) act as forbidden.
        dead = lo > hi * (1 + FEASIBILITY_TOL)
        if (dead & required).any():
            raise ValueError(f"required treatment(s) {_names(problem, dead & required)} have min load above max load")
        allowed &= ~dead
        live = w > 0
        can = allowed[None, :] if eligible is None else (eligible & allowed[None, :])
        stuck = live & ~can.any(axis=1) if eligible is not None else (live & ~allowed.any())
        if np.any(stuck):
            rows = np.flatnonzero(stuck)
            raise ValueError(f"individual(s) {rows[:10].tolist()}{' ...' if rows.size > 10 else ''} "
                             f"have no eligible treatment that may be offered")
        cost = None
        if not _unset(self.cost):
            if isinstance(self.cost, Mapping) or np.ndim(self.cost) <= 1:
                cost = self._per_treatment(self.cost, problem, "cost", fill=None)
            else:
                cost = check_finite(as_float_array(_by_label(self.cost, problem, "cost"), "cost"), "cost")
                if cost.shape != (n, m):
                    raise ValueError(f"cost must have shape ({m},) or ({n}, {m}), got {cost.shape}")
        budget = None
        if self.budget is not None:
            if cost is None:
                raise ValueError("budget needs cost (the cost of each treatment)")
            if isinstance(self.budget, bool) or not isinstance(self.budget, numbers.Real) \
                    or not np.isfinite(self.budget):
                raise ValueError(f"budget must be a finite number, got {self.budget!r}")
            budget = float(self.budget)
        fixed = np.zeros(m) if _unset(self.fixed_cost) else self._per_treatment(self.fixed_cost, problem,
                                                                                 "fixed_cost", fill=0.0)
        if (fixed < 0).any():
            raise ValueError(f"fixed_cost must be non-negative (a cost paid per offered treatment), got "
                             f"{problem.labels[int(np.argmax(fixed < 0))]!r}: {fixed[fixed < 0][0]!r}")
        side = SideConstraints(usage=np.ascontiguousarray(u, dtype=np.float64), lo=lo, hi=hi, cost=cost,
                               budget=budget, eligible=eligible, required=required, forbidden=~allowed,
                               fixed=fixed, K=int(K))
        side.check_cheap_conflicts(problem)
        return side

    def _per_treatment(self, value, problem: Problem, name: str, fill) -> np.ndarray:
        """One value per treatment from a scalar, an (m,) array or {label: value}; a dict leaves
        the treatments it does not name at ``fill`` (None: it must name them all). Only the
        max loads and shares may be inf (no bound)."""
        m = problem.m
        if isinstance(value, Mapping):
            out = np.full(m, np.nan if fill is None else fill)
            index = self._label_index(problem)
            for key, v in value.items():
                if key not in index:
                    raise ValueError(f"{name}: unknown treatment {key!r}; treatments are {list(problem.labels)}")
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise ValueError(f"{name}[{key!r}] must be a number, got {v!r}")
                out[index[key]] = float(v)
            if fill is None and np.isnan(out).any():
                missing = [problem.labels[t] for t in np.flatnonzero(np.isnan(out))]
                raise ValueError(f"{name}: no value for treatment(s) {missing}")
        else:
            out = as_float_array(value, name)
            if out.ndim == 0:
                out = np.full(m, float(out))
            if out.shape != (m,):
                raise ValueError(f"{name} must be a scalar, a dict by treatment or have shape ({m},), "
                                 f"got {out.shape}")
        if np.isnan(out).any() or (name not in ("max_load", "max_share") and not np.isfinite(out).all()):
            raise ValueError(f"{name} contains NaN or inf")
        return out.astype(np.float64)

    @staticmethod
    def _label_index(problem: Problem) -> dict:
        return {label: t for t, label in enumerate(problem.labels)}

    def _columns(self, items, problem: Problem, name: str) -> np.ndarray:
        mask = np.zeros(problem.m, dtype=bool)
        if items is None:
            return mask
        if isinstance(items, (str, numbers.Integral)) and not isinstance(items, bool):
            items = (items,)
        index = self._label_index(problem)
        for item in items:
            if item in index:
                mask[index[item]] = True
            elif isinstance(item, numbers.Integral) and not isinstance(item, bool) and 0 <= item < problem.m:
                mask[int(item)] = True
            else:
                raise ValueError(f"{name}: unknown treatment {item!r}; treatments are {list(problem.labels)}")
        return mask


@dataclass(frozen=True, eq=False)
class SideConstraints:
    """Validated side constraints in the problem's column order (what engines receive).

    usage (n,), lo / hi (m,) load bounds (0 / inf when absent), cost (m,) or (n, m) or None,
    budget or None, eligible (n, m) bool or None, required / forbidden (m,) bool, fixed (m,),
    K (the cardinality limit; m when the user passed None).
    """

    usage: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    cost: np.ndarray | None
    budget: float | None
    eligible: np.ndarray | None
    required: np.ndarray
    forbidden: np.ndarray
    fixed: np.ndarray
    K: int
    stats: dict = field(default_factory=dict)

    @property
    def coupled(self) -> bool:
        """True when the assignment is not "each individual on its best offered treatment":
        some load bound or a budget couples individuals."""
        return bool(np.isfinite(self.hi).any() or (self.lo > 0).any() or self.budget is not None)

    def cost_rows(self, rows=slice(None)) -> np.ndarray | None:
        """Cost of each treatment for the given rows, (len, m); None without costs."""
        if self.cost is None:
            return None
        if self.cost.ndim == 1:
            n = self.usage[rows].shape[0]
            return np.broadcast_to(self.cost, (n, self.cost.size))
        return self.cost[rows]

    def check_cheap_conflicts(self, problem: Problem) -> None:
        """The conflicts decidable without a solve (formulations/constrained.md, C-checks)."""
        w, u = problem.weights, self.usage
        live = w > 0
        total = float(u[live].sum())
        allowed = ~self.forbidden
        eligible = self.eligible
        labels = problem.labels
        # Eligible usage per treatment: what it could serve at most.
        reach = (u[live] @ (eligible[live] if eligible is not None else np.ones((int(live.sum()), problem.m)))
                 if problem.m else np.zeros(0))
        short = self.required & (self.lo > reach * (1 + FEASIBILITY_TOL) + 1e-12)
        if short.any():
            t = int(np.flatnonzero(short)[0])
            raise ValueError(f"min load of required treatment {labels[t]!r} is {self.lo[t]:g} but its eligible "
                             f"individuals use only {reach[t]:g}")
        if int(self.required.sum()) == self.K and eligible is not None:
            # The menu is forced to the required treatments: everyone must be eligible for one.
            lost = ~eligible[:, self.required].any(axis=1)
            if lost.any():
                rows = np.flatnonzero(lost)
                more = " ..." if rows.size > 10 else ""
                raise ValueError(f"K = {self.K} leaves room only for the required treatments, and individual(s) "
                                 f"{rows[:10].tolist()}{more} are eligible for none of them")
        need = float(self.lo[self.required].sum())
        if need > total * (1 + FEASIBILITY_TOL) + 1e-12:
            raise ValueError(f"min loads of the required treatments sum to {need:g}, more than the total usage "
                             f"{total:g}")
        caps = np.sort(np.where(allowed, self.hi, 0.0))[::-1][: self.K]
        if np.isfinite(caps).all() and caps.sum() < total * (1 - FEASIBILITY_TOL) - 1e-12:
            raise ValueError(f"capacities cannot hold the total usage {total:g}: the {min(self.K, problem.m)} "
                             f"largest max loads sum to {caps.sum():g}")
        if self.budget is not None:
            cost = self.cost_rows()
            cheapest_each = np.where(allowed[None, :] if eligible is None else (eligible & allowed[None, :]),
                                     cost, np.inf).min(axis=1)
            cheapest = float(w[live] @ cheapest_each[live])
            if cheapest > self.budget + FEASIBILITY_TOL * max(1.0, abs(self.budget)):
                raise ValueError(f"budget {self.budget:g} is below the cheapest eligible assignment, which costs "
                                 f"{cheapest:g}")


def _unset(value) -> bool:
    if value is None:
        return True
    if isinstance(value, (tuple, list)) and len(value) == 0:
        return True
    return False


def _names(problem: Problem, mask: np.ndarray) -> list:
    return [problem.labels[t] for t in np.flatnonzero(mask)]


def _by_label(table, problem: Problem, name: str):
    """A DataFrame's columns put in the treatments' order (matched by label); arrays as they are."""
    if isinstance(table, pd.DataFrame):
        labels = [str(x) for x in problem.labels] if all(isinstance(c, str) for c in table.columns) \
            else list(problem.labels)
        missing = [lab for lab in labels if lab not in table.columns]
        if missing:
            raise ValueError(f"{name} table lacks treatment column(s) {missing}")
        return table[labels].to_numpy()
    return table


def _read_table(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"cannot read {what} table {path}: {exc}") from None
