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
as many fractional groups as (T3)-(T4) rows, which are repaired by their own small integer
program in the room the others leave (T6), and the whole integer program is solved only when
that repair is further than ``TRANSPORT_GAP`` from the LP. The LP's row duals are the shadow
prices of (T3) and (T4).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..reductions import Grouped
from ..solver import HighsSession, LinearProgram

__all__ = ["MenuValues", "Transport", "transport"]

#: An LP value within this (relative) of integral counts is taken as integral.
INTEGRAL_TOL = 1e-7
#: Above this many (group, slot) pairs the LP is solved by interior point with crossover (at
#: 100,000 x 5 with a budget: 5.4 s against 33 s for the dual simplex; 0.34 s against 0.50 s
#: at 10,000 x 5).
IPM_PAIRS = 20_000
#: Relative gap to which the integer program of a menu is solved (T5): HiGHS' feasibility
#: tolerance (1e-6) leaves no finer proof meaningful; on 40 uniform rows with a tight budget,
#: 1e-7 took 1-4 s per menu, 1e-9 longer.
TRANSPORT_GAP = 1e-6


@dataclass(frozen=True)
class Transport:
    """The transport step's answer for one menu.

    ``x`` (G, s) integer counts per group and menu slot (None when infeasible); ``value`` the
    objective (T1) of ``x``; ``lp_value`` the LP relaxation's value (an upper bound for the
    menu, -inf when even the LP is infeasible); ``upper`` the best proven upper bound on the
    menu's optimum (the integer program's dual bound, within ``TRANSPORT_GAP`` of ``value``);
    ``exact``: ``value`` is the menu's optimum to that gap;
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
    upper: float = np.nan

    def __post_init__(self):
        if np.isnan(self.upper):
            object.__setattr__(self, "upper", self.value if self.exact else self.lp_value)


def transport(data: Grouped, menu: np.ndarray, *, exact: bool = True, time_limit: float | None = None) -> Transport:
    """The best assignment of every group of ``data`` to the columns ``menu`` (s,) of ``data``.

    The LP first; a fractional vertex is repaired by the integer program of its few fractional
    groups with the others fixed (T6). When the repair is within ``TRANSPORT_GAP`` of the LP it
    is optimal to that gap; otherwise (``exact``) the whole integer program is solved from it.
    ``exact=False`` returns the repair (or the LP bound alone when the repair fails).
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
        top = P[np.arange(data.G), best]
        value = float(data.w @ (top * data.counts))
        return Transport(True, value, x, value, True, {"max_load": np.zeros(menu.size), "min_load": np.zeros(menu.size),
                                                       "budget": 0.0, "assign": data.w * top}, "best")
    every = np.arange(data.G)
    program, g, j = _program(data, menu, ok, loads, every, data.lo[menu], data.hi[menu], data.budget)
    session = HighsSession(program)
    session.configure(time_limit=time_limit, lp_solver="ipm" if g.size > IPM_PAIRS else None)
    lp = session.run()
    if lp.termination == "infeasible":
        return Transport(False, -np.inf, None, -np.inf, True, None, "the LP of the assignment is infeasible")
    if lp.termination != "optimal":
        return Transport(False, -np.inf, None, np.inf, False, None, f"LP stopped: {lp.raw_status}")
    values = session.values()
    duals = _shadow_prices(session.row_duals(), data, menu, loads)
    lp_value = float(lp.objective)
    x = _counts(g, j, values, data.G, menu.size)
    close = np.abs(x - np.round(x)) <= INTEGRAL_TOL * np.maximum(1.0, data.counts[:, None])
    if close.all():
        x = np.round(x)
        return Transport(True, float((data.w[:, None] * P * x).sum()), x, lp_value, True, duals, "LP integral")
    repaired = _repair(data, menu, ok, loads, np.round(np.where(close, x, 0.0)), ~close.all(axis=1))
    if repaired is not None and not _meets(data, menu, repaired):
        repaired = None
    tol = TRANSPORT_GAP * max(1.0, abs(lp_value))
    if repaired is not None:
        value = float((data.w[:, None] * P * repaired).sum())
        if lp_value - value <= tol or not exact:
            return Transport(True, value, repaired, lp_value, lp_value - value <= tol, duals,
                             "LP repaired (T6)", upper=lp_value)
    elif not exact:
        return Transport(False, -np.inf, None, lp_value, False, duals, "LP fractional, repair failed")
    session.set_integer(np.arange(g.size))
    session.configure(mip_gap=TRANSPORT_GAP, lp_solver="choose")
    if repaired is not None:
        session.set_start(repaired[g, j])
    mip = session.run()
    if mip.termination == "infeasible":
        return Transport(False, -np.inf, None, lp_value, True, duals, "no integer assignment (the LP has one)")
    if not mip.has_solution:
        return Transport(False, -np.inf, None, lp_value, False, duals, f"integer program stopped: {mip.raw_status}",
                         upper=min(lp_value, mip.bound))
    counts = _counts(g, j, np.round(session.values()), data.G, menu.size)
    if not _meets(data, menu, counts):
        return Transport(False, -np.inf, None, lp_value, False, duals, "the integer program's point breaks a "
                         "constraint beyond 1e-9 once rounded", upper=min(lp_value, mip.bound))
    value = float((data.w[:, None] * P * counts).sum())
    return Transport(True, value, counts, lp_value, mip.termination == "optimal", duals,
                     f"integer program: {mip.raw_status}", upper=max(value, min(lp_value, mip.bound)))


def _program(data: Grouped, menu: np.ndarray, ok: np.ndarray, loads: np.ndarray, groups: np.ndarray,
             lo: np.ndarray, hi: np.ndarray, budget: float | None) -> tuple[LinearProgram, np.ndarray, np.ndarray]:
    """(T1)-(T5) over the listed ``groups`` with load bounds ``lo``, ``hi`` (s,) and ``budget``;
    returns the program and the (group, slot) of each of its columns."""
    sub = np.zeros(ok.shape, dtype=bool)
    sub[groups] = ok[groups]
    g, j = np.nonzero(sub)
    npairs = g.size
    row = np.full(data.G, -1)
    row[groups] = np.arange(groups.size)
    blocks = [sp.csr_matrix((np.ones(npairs), (row[g], np.arange(npairs))), shape=(groups.size, npairs))]  # (T2)
    lower, upper = [data.counts[groups]], [data.counts[groups]]
    if loads.size:
        slot = np.full(menu.size, -1)
        slot[loads] = np.arange(loads.size)
        on = slot[j] >= 0
        blocks.append(sp.csr_matrix((data.usage[g[on]], (slot[j[on]], np.flatnonzero(on))),
                                    shape=(loads.size, npairs)))                                      # (T3)
        lower.append(lo[loads])
        upper.append(hi[loads])
    if budget is not None:
        blocks.append(sp.csr_matrix((data.w[g] * data.cost[g, menu[j]])[None, :]))                   # (T4)
        lower.append([-np.inf])
        upper.append([budget])
    program = LinearProgram(c=data.w[g] * data.P[g, menu[j]], A=sp.vstack(blocks, format="csc"),
                            row_lower=np.concatenate(lower), row_upper=np.concatenate(upper),
                            col_lower=np.zeros(npairs), col_upper=data.counts[g])
    return program, g, j


def _repair(data: Grouped, menu: np.ndarray, ok: np.ndarray, loads: np.ndarray, fixed: np.ndarray,
            frac: np.ndarray) -> np.ndarray | None:
    """(T6) the integral groups of an LP vertex kept, the fractional ones (at most one per (T3)/(T4)
    row) assigned by their small integer program in the room left; None when there is none."""
    groups = np.flatnonzero(frac)
    fixed = fixed.copy()
    fixed[groups] = 0.0
    used = data.usage @ fixed
    lo = data.lo[menu] - used
    hi = data.hi[menu] - used
    budget = None
    if data.budget is not None:
        budget = data.budget - float((data.w[:, None] * data.cost[:, menu] * fixed).sum())
    program, g, j = _program(data, menu, ok, loads, groups, lo, hi, budget)
    program = LinearProgram(**{**program.__dict__, "integer": np.ones(g.size, dtype=bool)})
    session = HighsSession(program)
    session.configure(mip_gap=0.0)
    result = session.run()
    if not result.has_solution:
        return None
    fixed[g, j] = np.round(session.values())
    return fixed


def _meets(data: Grouped, menu: np.ndarray, x: np.ndarray, rtol: float = 1e-9) -> bool:
    """Integer counts ``x`` (G, s) meet (T2)-(T4) exactly, up to ``rtol`` of each bound."""
    if not np.allclose(x.sum(axis=1), data.counts, rtol=0, atol=1e-9):
        return False
    load = data.usage @ x
    hi, lo = data.hi[menu], data.lo[menu]
    if (load > hi + rtol * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, 0.0)))).any():
        return False
    if (load < lo - rtol * np.maximum(1.0, lo)).any():
        return False
    if data.budget is not None:
        spend = float((data.w[:, None] * data.cost[:, menu] * x).sum())
        if spend > data.budget + rtol * max(1.0, abs(data.budget)):
            return False
    return True


def _counts(g: np.ndarray, j: np.ndarray, values: np.ndarray, G: int, s: int) -> np.ndarray:
    x = np.zeros((G, s))
    x[g, j] = values
    return x


def _shadow_prices(row_dual: np.ndarray, data: Grouped, menu: np.ndarray, loads: np.ndarray) -> dict:
    """d LP value / d bound of every (T3) and (T4) row (HiGHS' row duals of a maximization), and
    of every group's size (T2), "assign" (G,)."""
    s = menu.size
    hi, lo = np.zeros(s), np.zeros(s)
    if loads.size:
        d = row_dual[data.G:data.G + loads.size]
        # A ranged row's dual belongs to whichever side binds: >= 0 at the max, <= 0 at the min.
        hi[loads] = np.maximum(d, 0.0)
        lo[loads] = np.minimum(d, 0.0)
    budget = float(max(row_dual[-1], 0.0)) if data.budget is not None else 0.0
    return {"max_load": hi, "min_load": lo, "budget": budget, "assign": row_dual[:data.G].copy()}


class MenuValues:
    """Values of menus of ``data`` (the transport step minus the fixed costs of the treatments
    offered: those used plus the required ones), each menu solved once; the best feasible one
    is kept (``menu`` mask, ``value``, counts ``x``).

    A menu is a boolean mask (k,); one that misses a required treatment, exceeds K or is
    empty is worth -inf. ``exact=False`` (searches) stops at the LP's repair (T6); ``exact=True``
    (the oracle, decided tree nodes) solves the integer program when the repair is not within
    ``TRANSPORT_GAP``; a menu valued loosely is solved again when asked exactly.
    """

    def __init__(self, data: Grouped, *, deadline: float | None = None):
        self.data = data
        self.deadline = deadline
        self.menu: np.ndarray | None = None
        self.value = -np.inf
        self.x: np.ndarray | None = None
        self.solved = 0
        self.upper = -np.inf          # the largest upper_of over the menus valued exactly
        self._seen: dict = {}

    def of(self, mask: np.ndarray, exact: bool = False) -> float:
        """The value of the menu ``mask`` (-inf when no assignment meets the constraints)."""
        mask = np.asarray(mask, dtype=bool)
        key = mask.tobytes()
        seen = self._seen.get(key)
        if seen is not None and (seen[3] or not exact):
            return seen[0]
        d = self.data
        value, x, upper, done = -np.inf, None, -np.inf, True
        if mask.any() and int(mask.sum()) <= d.K and not (d.required & ~mask).any():
            slots = np.flatnonzero(mask)
            left = None if self.deadline is None else max(0.01, self.deadline - time.perf_counter())
            result = transport(d, slots, exact=exact, time_limit=left)
            self.solved += 1
            done = result.exact or exact
            if result.feasible:
                used = result.x.sum(axis=0) > 0
                x = result.x
                value = result.value - float(d.fixed[slots[used | d.required[slots]]].sum())
            # With every column of the menu offered and paid for; a cheaper answer that leaves one
            # unused is the value of a smaller menu.
            upper = result.upper - float(d.fixed[slots].sum())
            if exact:
                self.upper = max(self.upper, upper)
        self._seen[key] = (value, x, upper, done)
        if value > self.value:
            self.menu, self.value, self.x = mask.copy(), value, x
        return value

    def upper_of(self, mask: np.ndarray) -> float:
        """A proven upper bound on the value of offering exactly this menu (within
        ``TRANSPORT_GAP`` of its value)."""
        mask = np.asarray(mask, dtype=bool)
        self.of(mask, exact=True)
        return self._seen[mask.tobytes()][2]

    def counts(self, mask: np.ndarray) -> np.ndarray | None:
        """The counts (G, |menu|) of the menu's best assignment found (None when infeasible)."""
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

    def offer(self, mask: np.ndarray, exact: bool = False) -> bool:
        """Value ``mask``; True when it beats the best so far (and is kept)."""
        before = self.value
        return self.of(mask, exact=exact) > before
