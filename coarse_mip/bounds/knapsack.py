"""The Lagrangian bound of the constrained problem: assignment rows and budget relaxed, one
knapsack per treatment (formulations/constrained.md, L1-L4).

With multipliers pi_g on the assignment rows (T2), in objective units per member, and
beta >= 0 on the budget (T4), every treatment t keeps its own load bounds (T3) as a knapsack
over the groups:

    KP_t = max { sum_g V_gt z_g : lo_t <= sum_g u_g z_g <= hi_t, z_g integer in [0, counts_g],
                 z_g = 0 unless g is eligible for t },
    V_gt = w_g P_gt - pi_g - beta w_g c_gt                                            (L1)

and for a node forcing the treatments F1 in and F0 out,

    L = sum_g counts_g pi_g + beta budget + sum_{t in F1} (KP_t - f_t)
        + the best sum of (KP_t - f_t) over at most K - |F1| free t                     (L2)

bounds every feasible menu of the node (the individuals a feasible assignment gives t are a
feasible knapsack of t). Without load bounds KP_t is the B11 term rho_t. The knapsacks are
solved exactly when they can be cheaply (no load bounds; one usage for all; small integer
usages by dynamic programming, L3) and by their LP otherwise (a larger, still valid bound, L4).
"""

from __future__ import annotations

import time

import numpy as np

from ..kernels.knapsack import dp_knapsacks
from ..reductions import Grouped

__all__ = ["KnapsackBound", "column_knapsacks"]

#: Dynamic programming over capacities up to this many units per treatment (L3).
DP_MAX_CAPACITY = 4096
#: ... and over at most this many (item, treatment, capacity) cells (one byte each of choices).
DP_MAX_CELLS = 5 * 10**7
_TOL = 1e-9


def column_knapsacks(V: np.ndarray, counts: np.ndarray, usage: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                     how: str) -> tuple[np.ndarray, np.ndarray]:
    """KP_t (L1) of every column of ``V`` (G, c) (-inf where a group is not eligible) and the
    counts taken, (G, c). ``how`` is "free" (no load bound on any column), "unit" (one usage
    for every group: exact), "dp" (integer usages: exact, L3) or "lp" (the LP relaxation, L4).
    A column whose knapsack is infeasible gets -inf."""
    if how == "free":
        take = np.where(V > 0, counts[:, None], 0.0)
        return (np.where(take > 0, V, 0.0) * take).sum(axis=0), take
    if how == "dp":
        return dp_knapsacks(V, counts, usage, lo, hi)
    if how == "unit" and np.all(counts == 1):
        return _unit_singles(V, usage, lo, hi)
    best, take = np.empty(V.shape[1]), np.zeros(V.shape)
    for t in range(V.shape[1]):
        ok = V[:, t] > -np.inf
        best[t], take[ok, t] = _greedy(V[ok, t], counts[ok], usage[ok], lo[t], hi[t])
    return best, take


def _unit_singles(V: np.ndarray, usage: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knapsacks when every group is one member using the same capacity u0: each column takes its
    ``clip(#positive, need, cap)`` best eligible members, found by partition in O(G) (exact)."""
    G, c = V.shape
    u0 = float(usage[usage > _TOL][0]) if (usage > _TOL).any() else 1.0
    cap = np.where(np.isfinite(hi), np.floor(hi / u0 + _TOL), G).astype(np.int64)
    need = np.ceil(lo / u0 - _TOL).astype(np.int64)
    best, take = np.empty(c), np.zeros((G, c))
    for t in range(c):
        v = V[:, t]
        ok = np.flatnonzero(v > -np.inf)
        want = int(np.clip((v[ok] > 0).sum(), need[t], min(cap[t], ok.size)))
        if need[t] > min(cap[t], ok.size):
            best[t] = -np.inf
            continue
        if want == 0:
            best[t] = 0.0
            continue
        chosen = ok[np.argpartition(-v[ok], want - 1)[:want]] if want < ok.size else ok
        take[chosen, t] = 1.0
        best[t] = float(v[chosen].sum())
    return best, take


def _greedy(v: np.ndarray, counts: np.ndarray, u: np.ndarray, lo: float, hi: float) -> tuple[float, np.ndarray]:
    """Two-sided fractional knapsack (L4): fill by value per unit of usage up to the load
    ``clip(usage of the positive items, lo, hi)``. With one usage for all, capacities are whole
    members and the fill is integral: the exact knapsack."""
    z = np.zeros(v.size)
    free = u <= _TOL                                  # no capacity used: take if worth it
    z[free] = np.where(v[free] > 0, counts[free], 0.0)
    paid = np.flatnonzero(~free)
    if paid.size == 0:
        return (float(v @ z) if lo <= _TOL else -np.inf), z
    units = np.unique(u[paid])
    if units.size == 1:
        if np.isfinite(hi):
            hi = np.floor(hi / units[0] + _TOL) * units[0]
        lo = np.ceil(lo / units[0] - _TOL) * units[0]
    order = paid[np.argsort(-v[paid] / u[paid], kind="stable")]
    size = counts[order] * u[order]
    if size.sum() < lo - _TOL * max(1.0, lo):
        return -np.inf, z
    target = min(hi, max(lo, float(size[v[order] > 0].sum())))
    before = np.cumsum(size) - size
    z[order] = np.clip((target - before) / np.maximum(size, 1e-300), 0.0, 1.0) * counts[order]
    if units.size == 1:
        z = np.round(z)
    return float(v @ z), z


class KnapsackBound:
    """Lagrangian bounds (L2) of the nodes of a branch and bound over the treatments of ``data``.

    ``bound(inside, outside, pi, beta, iters)`` runs projected Polyak subgradient steps from
    (pi, beta) aimed at the best value of ``values`` (a :class:`~coarse_mip.kernels.MenuValues`)
    and returns the best bound found with its multipliers, the node's Lagrangian menu (F1 plus
    the best free columns) and every column's ``KP_t - f_t``. With ``offer_menus`` the distinct
    Lagrangian menus of the steps are valued in ``values`` afterwards, those of the lowest
    bounds first, at most ``max_offers`` of them (the Lagrangian heuristic).
    """

    def __init__(self, data: Grouped, values, *, offer_menus: bool = True, deadline: float | None = None,
                 max_offers: int = 20):
        self.data = data
        self.values = values
        self.offer_menus = offer_menus
        self.max_offers = max_offers
        self.deadline = deadline
        live = data.counts > 0
        u = data.usage[live & (data.usage > _TOL)]
        bounded = np.isfinite(data.hi) | (data.lo > 0)
        integer = np.all(np.abs(data.usage - np.round(data.usage)) <= _TOL)
        cap = np.where(np.isfinite(data.hi), data.hi, float(data.usage @ data.counts))
        items = int(np.ceil(np.log2(data.counts[live] + 1)).sum())     # after binary splitting
        C = float(cap[bounded].max(initial=0))
        if not bounded.any():
            self.how = "free"
        elif np.unique(u).size <= 1:
            self.how = "unit"
        elif integer and C <= DP_MAX_CAPACITY and items * (C + 1) * data.k <= DP_MAX_CELLS:
            self.how = "dp"
        else:
            self.how = "lp"
        self.evaluations = 0

    def initial(self) -> tuple[np.ndarray, float]:
        """Multipliers to start from: each member's best eligible profit, beta = 0."""
        P = self.data.P if self.data.eligible is None else np.where(self.data.eligible, self.data.P, -np.inf)
        return self.data.w * P.max(axis=1), 0.0

    def evaluate(self, inside: np.ndarray, outside: np.ndarray, pi: np.ndarray, beta: float):
        """L (L2) at (pi, beta): (L, Lagrangian menu mask, values KP_t - f_t (k,), taken counts (G, k))."""
        d = self.data
        self.evaluations += 1
        V = d.w[:, None] * d.P - pi[:, None]
        if beta > 0:
            V -= beta * d.w[:, None] * d.cost
        if d.eligible is not None:
            V = np.where(d.eligible, V, -np.inf)
        cols = np.flatnonzero(~outside)
        KP, take = column_knapsacks(V[:, cols], d.counts, d.usage, d.lo[cols], d.hi[cols],
                                    "free" if self.how == "free" else self.how)
        values = np.full(d.k, -np.inf)
        values[cols] = KP - d.fixed[cols]
        taken = np.zeros(d.P.shape)
        taken[:, cols] = take
        menu = inside.copy()
        free = np.flatnonzero(~inside & ~outside & np.isfinite(values))
        room = d.K - int(inside.sum())
        if room > 0 and free.size:
            order = free[np.argsort(-values[free], kind="stable")][:room]
            chosen = order[values[order] > 0]
            if chosen.size == 0 and not inside.any():
                chosen = order[:1]                   # a menu serves somebody: at least one treatment
            menu[chosen] = True
        constant = float(d.counts @ pi) + (beta * d.budget if d.budget is not None else 0.0)
        L = constant + float(values[menu].sum()) if menu.any() else -np.inf
        if np.isnan(L):
            L = -np.inf
        return L, menu, values, taken

    def bound(self, inside: np.ndarray, outside: np.ndarray, mu: np.ndarray, beta: float, iters: int):
        """Best L over ``iters`` projected Polyak steps from ``mu`` (the pi of L1); (L, pi, beta, menu, values)."""
        d = self.data
        best = None
        theta, since = 1.0, 0
        seen = {}
        for _ in range(max(1, iters)):
            L, menu, values, taken = self.evaluate(inside, outside, mu, beta)
            if self.offer_menus and menu.any():
                key = menu.tobytes()
                seen[key] = min(seen.get(key, (np.inf, menu))[0], L), menu
            if best is None or L < best[0]:
                best, since = (L, mu.copy(), beta, menu, values), 0
            else:
                since += 1
                if since >= 5:
                    theta, since = theta / 2, 0
            target = self.values.value
            late = self.deadline is not None and time.perf_counter() >= self.deadline
            if not np.isfinite(L) or L <= target or late:
                break
            served = taken[:, menu].sum(axis=1)
            g_mu = d.counts - served
            g_beta = 0.0
            if d.budget is not None:
                g_beta = d.budget - float((d.w[:, None] * d.cost * taken)[:, menu].sum())
                if beta <= 0 and g_beta > 0:
                    g_beta = 0.0
            norm = float(g_mu @ g_mu) + g_beta * g_beta
            if norm <= 0:
                break
            # Polyak's step towards the best known value; without one, towards 1 % below L.
            aim = target if np.isfinite(target) else L - 0.01 * max(1.0, abs(L))
            step = theta * (L - aim) / norm
            mu = mu - step * g_mu
            beta = max(0.0, beta - step * g_beta)
        for _, menu in sorted(seen.values(), key=lambda item: item[0])[: self.max_offers]:
            if self.deadline is not None and time.perf_counter() >= self.deadline:
                break
            self.values.offer(menu)
        return best
