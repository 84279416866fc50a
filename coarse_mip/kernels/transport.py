"""The transport step: the best assignment for a fixed menu under the side constraints
(formulations/constrained.md, T1-T5).

For a menu S, groups g of ``counts[g]`` identical individuals are assigned in integer numbers
x_gj to the menu's treatments j:

    max  sum_{g,j} w_g P_gj x_gj                                              (T1)
    s.t. sum_j x_gj = counts_g                 for every group                (T2)
         lo_j <= sum_g u_g x_gj <= hi_j        for every treatment of S       (T3)
         sum_{g,j} w_g c_gj x_gj <= budget                                   (T4)
         x_gj integer in [0, counts_g], x_gj = 0 unless g is eligible for j   (T5)

Without (T3)-(T4) every group goes to its best eligible treatment of S. Otherwise the LP is
solved first (HiGHS, simplex): when every individual uses the same capacity and there is no
budget it is a transportation problem and its vertex is integral; else a vertex has at most
as many fractional groups as (T3)-(T4) rows and the integer program is solved from there. The
LP's row duals are the shadow prices of (T3) and (T4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..reductions import Grouped
from ..solver import HighsSession, LinearProgram

__all__ = ["MenuValues", "Transport", "transport"]

#: An LP value within this (relative) of integral counts is taken as integral.
INTEGRAL_TOL = 1e-7


@dataclass(frozen=True)
class Transport:
    """The transport step's answer for one menu.

    ``x`` (G, s) integer counts per group and menu slot (None when infeasible); ``value`` the
    objective (T1) of ``x``; ``lp_value`` the LP relaxation's value (an upper bound for the
    menu, -inf when even the LP is infeasible); ``exact``: ``value`` is the menu's optimum;
    ``duals``: for the LP, d value / d bound of each (T3) max and min load (s,) and of the
    budget (T4), or None.
    """

    feasible: bool
    value: float
    x: np.ndarray | None
    lp_value: float
    exact: bool
    duals: dict | None
    status: str


def transport(data: Grouped, menu: np.ndarray, *, exact: bool = True, time_limit: float | None = None) -> Transport:
    """The best assignment of every group of ``data`` to the columns ``menu`` (s,) of ``data``.

    ``exact=False`` stops at the LP when it is fractional and rounds it feasibly when it can
    (the value is then a lower bound and ``lp_value`` an upper bound for the menu).
    """
    menu = np.asarray(menu, dtype=np.intp)
    P = data.P[:, menu]
    ok = np.ones(P.shape, dtype=bool) if data.eligible is None else data.eligible[:, menu]
    if not ok.any(axis=1).all():
        return Transport(False, -np.inf, None, -np.inf, True, None, "a group has no eligible treatment on the menu")
    loads = np.flatnonzero(np.isfinite(data.hi[menu]) | (data.lo[menu] > 0))
    if loads.size == 0 and data.budget is None:
        x = np.zeros(P.shape)
        best = np.argmax(np.where(ok, P, -np.inf), axis=1)
        x[np.arange(data.G), best] = data.counts
        value = float(data.w @ (P[np.arange(data.G), best] * data.counts))
        return Transport(True, value, x, value, True, {"max_load": np.zeros(menu.size),
                                                       "min_load": np.zeros(menu.size), "budget": 0.0}, "best")
    g, j = np.nonzero(ok)
    npairs = g.size
    blocks = [sp.csr_matrix((np.ones(npairs), (g, np.arange(npairs))), shape=(data.G, npairs))]      # (T2)
    lower, upper = [data.counts], [data.counts]
    if loads.size:
        slot = np.full(menu.size, -1)
        slot[loads] = np.arange(loads.size)
        on = slot[j] >= 0
        blocks.append(sp.csr_matrix((data.usage[g[on]], (slot[j[on]], np.flatnonzero(on))),
                                    shape=(loads.size, npairs)))                                      # (T3)
        lower.append(data.lo[menu[loads]])
        upper.append(data.hi[menu[loads]])
    if data.budget is not None:
        spend = data.w[g] * data.cost[g, menu[j]]
        blocks.append(sp.csr_matrix(spend[None, :]))                                                  # (T4)
        lower.append([-np.inf])
        upper.append([data.budget])
    program = LinearProgram(c=data.w[g] * P[g, j], A=sp.vstack(blocks, format="csc"),
                            row_lower=np.concatenate(lower), row_upper=np.concatenate(upper),
                            col_lower=np.zeros(npairs), col_upper=data.counts[g])
    session = HighsSession(program)
    if time_limit is not None:
        session.configure(time_limit=time_limit)
    lp = session.run()
    if lp.termination == "infeasible":
        return Transport(False, -np.inf, None, -np.inf, True, None, "the LP of the assignment is infeasible")
    if lp.termination != "optimal":
        return Transport(False, -np.inf, None, np.inf, False, None, f"LP stopped: {lp.raw_status}")
    values = session.values()
    duals = _shadow_prices(session.row_duals(), data, menu, loads)
    lp_value = float(lp.objective)
    if np.abs(values - np.round(values)).max(initial=0.0) <= INTEGRAL_TOL * max(1.0, data.counts.max()):
        return Transport(True, float(program.c @ np.round(values)), _counts(g, j, np.round(values), data.G, menu.size),
                         lp_value, True, duals, "LP integral")
    if not exact:
        return Transport(False, -np.inf, None, lp_value, False, duals, "LP fractional (not rounded)")
    session.set_integer(np.arange(npairs))
    session.configure(mip_gap=0.0)
    mip = session.run()
    if mip.termination == "infeasible":
        return Transport(False, -np.inf, None, lp_value, True, duals, "no integer assignment (the LP has one)")
    if not mip.has_solution:
        return Transport(False, -np.inf, None, lp_value, False, duals, f"integer program stopped: {mip.raw_status}")
    counts = np.round(session.values())
    return Transport(True, float(program.c @ counts), _counts(g, j, counts, data.G, menu.size), lp_value,
                     mip.termination == "optimal", duals, f"integer program: {mip.raw_status}")


def _counts(g: np.ndarray, j: np.ndarray, values: np.ndarray, G: int, s: int) -> np.ndarray:
    x = np.zeros((G, s))
    x[g, j] = values
    return x


def _shadow_prices(row_dual: np.ndarray, data: Grouped, menu: np.ndarray, loads: np.ndarray) -> dict:
    """d LP value / d bound of every (T3) and (T4) row (HiGHS' row duals of a maximization)."""
    s = menu.size
    hi, lo = np.zeros(s), np.zeros(s)
    if loads.size:
        d = row_dual[data.G:data.G + loads.size]
        # A ranged row's dual belongs to whichever side binds: >= 0 at the max, <= 0 at the min.
        hi[loads] = np.maximum(d, 0.0)
        lo[loads] = np.minimum(d, 0.0)
    budget = float(max(row_dual[-1], 0.0)) if data.budget is not None else 0.0
    return {"max_load": hi, "min_load": lo, "budget": budget}


class MenuValues:
    """Exact values of menus of ``data`` (the transport step minus the fixed costs of the
    treatments offered: those used plus the required ones), each menu solved once; the best
    feasible one is kept (``menu`` mask, ``value``, counts ``x``).

    A menu is a boolean mask (k,); one that misses a required treatment, exceeds K or is
    empty is worth -inf.
    """

    def __init__(self, data: Grouped, *, exact: bool = True):
        self.data = data
        self.exact = exact
        self.menu: np.ndarray | None = None
        self.value = -np.inf
        self.x: np.ndarray | None = None
        self.solved = 0
        self._seen: dict = {}

    def of(self, mask: np.ndarray) -> float:
        """The value of the menu ``mask`` (-inf when no assignment meets the constraints)."""
        mask = np.asarray(mask, dtype=bool)
        key = mask.tobytes()
        if key in self._seen:
            return self._seen[key][0]
        d = self.data
        value, x = -np.inf, None
        if mask.any() and int(mask.sum()) <= d.K and not (d.required & ~mask).any():
            slots = np.flatnonzero(mask)
            result = transport(d, slots, exact=self.exact)
            self.solved += 1
            if result.feasible:
                used = result.x.sum(axis=0) > 0
                x = result.x
                value = result.value - float(d.fixed[slots[used | d.required[slots]]].sum())
        self._seen[key] = (value, x)
        return value

    def counts(self, mask: np.ndarray) -> np.ndarray | None:
        """The counts (G, |menu|) of the menu's best assignment (None when infeasible)."""
        mask = np.asarray(mask, dtype=bool)
        self.of(mask)
        return self._seen[mask.tobytes()][1]

    def answer(self) -> tuple[np.ndarray, np.ndarray, dict] | None:
        """The best menu as the engines return it: (offered original columns, each original row's
        column (n,), shadow prices by original column from the LP at that menu); None when no
        feasible menu was found."""
        if self.menu is None:
            return None
        d = self.data
        slots = np.flatnonzero(self.menu)
        assignment = d.expand(slots, self.x)
        used = self.x.sum(axis=0) > 0
        offered = d.columns[slots[used | d.required[slots]]]
        lp = transport(d, slots, exact=False)
        duals = {}
        if lp.duals is not None:
            for key in ("max_load", "min_load"):
                bounded = np.isfinite(d.hi[slots]) if key == "max_load" else d.lo[slots] > 0
                duals[key] = {int(d.columns[s]): float(v) for s, v, b in zip(slots, lp.duals[key], bounded,
                                                                               strict=True) if b}
            if d.budget is not None:
                duals["budget"] = lp.duals["budget"]
        return offered, assignment, duals

    def offer(self, mask: np.ndarray) -> bool:
        """Evaluate ``mask``; keep it if it beats the best so far. True when it did."""
        mask = np.asarray(mask, dtype=bool)
        value = self.of(mask)
        if value > self.value:
            self.menu, self.value, self.x = mask.copy(), value, self._seen[mask.tobytes()][1]
            return True
        return False
