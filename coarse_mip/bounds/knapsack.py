"""The Lagrangian bound of the constrained problem: assignment rows and budget relaxed, one
knapsack per treatment (formulations/constrained.md, L1-L4).

With multipliers mu_g on the assignment rows (T2) and beta >= 0 on the budget (T4), every
treatment t keeps its own load bounds (T3) as a knapsack over the groups:

    KP_t = max { sum_g V_gt z_g : lo_t <= sum_g u_g z_g <= hi_t, z_g integer in [0, counts_g],
                 z_g = 0 unless g is eligible for t },
    V_gt = w_g (P_gt - mu_g - beta c_gt)                                              (L1)

and for a node forcing the treatments F1 in and F0 out,

    L = sum_g counts_g w_g mu_g + beta budget + sum_{t in F1} (KP_t - f_t)
        + the best sum of (KP_t - f_t) over at most K - |F1| free t                     (L2)

bounds every feasible menu of the node (the individuals a feasible assignment gives t are a
feasible knapsack of t). Without load bounds KP_t is the B11 term rho_t. The knapsacks are
solved exactly when they can be cheaply (no load bounds; one usage for all; small integer
usages by dynamic programming, L3) and by their LP otherwise (a larger, still valid bound, L4).
"""

from __future__ import annotations

import time

import numpy as np

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
        return _dp(V, counts, usage, lo, hi)
    best, take = np.empty(V.shape[1]), np.zeros(V.shape)
    for t in range(V.shape[1]):
        ok = V[:, t] > -np.inf
        best[t], take[ok, t] = _greedy(V[ok, t], counts[ok], usage[ok], lo[t], hi[t])
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


def _dp(V: np.ndarray, counts: np.ndarray, u: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Bounded knapsacks with integer usages, one per column of ``V`` (G, c), by dynamic
    programming over the exact load, all columns at once (L3). Groups of several members are
    split into items of 1, 2, 4, ... members."""
    G, c = V.shape
    total = float(u @ counts)
    cap = np.floor(np.minimum(hi, total) + _TOL).astype(np.int64)
    need = np.maximum(0, np.ceil(lo - _TOL)).astype(np.int64)
    C = int(cap.max(initial=0))
    items, sizes = [], []
    for g in np.flatnonzero(counts > 0):
        left, k = int(counts[g]), 1
        while left > 0:
            items.append(g)
            sizes.append(min(k, left))
            left -= sizes[-1]
            k *= 2
    items, sizes = np.asarray(items, dtype=np.intp), np.asarray(sizes, dtype=np.float64)
    weight = np.round(u[items] * sizes).astype(np.int64)
    dp = np.full((c, C + 1), -np.inf)
    dp[:, 0] = 0.0
    took = np.zeros((items.size, c, C + 1), dtype=bool)
    for r in range(items.size):
        q = int(weight[r])
        value = V[items[r]] * sizes[r]                # (c,), -inf where not eligible
        if q == 0:
            gain = value > 0
            dp[gain] += value[gain, None]
            took[r, gain] = True
            continue
        if q > C:
            continue
        cand = dp[:, : C + 1 - q] + value[:, None]
        better = cand > dp[:, q:]
        np.copyto(dp[:, q:], cand, where=better)
        took[r, :, q:] = better
    loads = np.arange(C + 1)
    allowed = (loads[None, :] >= need[:, None]) & (loads[None, :] <= cap[:, None])
    masked = np.where(allowed, dp, -np.inf)
    at = np.argmax(masked, axis=1)
    best = masked[np.arange(c), at]
    take = np.zeros((G, c))
    state = np.where(np.isfinite(best), at, 0)
    cols = np.arange(c)
    for r in range(items.size - 1, -1, -1):          # trace the choices back, all columns at once
        chose = took[r, cols, state] & np.isfinite(best)
        take[items[r], chose] += sizes[r]
        state = state - weight[r] * chose
    return best, take


class KnapsackBound:
    """Lagrangian bounds (L2) of the nodes of a branch and bound over the treatments of ``data``.

    ``bound(inside, outside, mu, beta, iters)`` runs projected Polyak subgradient steps from
    (mu, beta) aimed at the best value of ``values`` (a :class:`~coarse_mip.kernels.MenuValues`)
    and returns the best bound found with its multipliers, the node's Lagrangian menu (F1 plus
    the best free columns) and every column's ``KP_t - f_t``. With ``offer_menus`` every
    Lagrangian menu met is valued exactly in ``values`` (the Lagrangian heuristic).
    """

    def __init__(self, data: Grouped, values, *, offer_menus: bool = True, deadline: float | None = None):
        self.data = data
        self.values = values
        self.offer_menus = offer_menus
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
        """Multipliers to start from: each group's best eligible profit, beta = 0."""
        P = self.data.P if self.data.eligible is None else np.where(self.data.eligible, self.data.P, -np.inf)
        return P.max(axis=1), 0.0

    def evaluate(self, inside: np.ndarray, outside: np.ndarray, mu: np.ndarray, beta: float):
        """L (L2) at (mu, beta): (L, Lagrangian menu mask, values KP_t - f_t (k,), taken counts (G, k))."""
        d = self.data
        self.evaluations += 1
        V = d.w[:, None] * (d.P - mu[:, None])
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
        constant = float((d.counts * d.w) @ mu) + (beta * d.budget if d.budget is not None else 0.0)
        L = constant + float(values[menu].sum()) if menu.any() else -np.inf
        if np.isnan(L):
            L = -np.inf
        return L, menu, values, taken

    def bound(self, inside: np.ndarray, outside: np.ndarray, mu: np.ndarray, beta: float, iters: int):
        """Best L over ``iters`` projected Polyak steps; (L, mu, beta, menu, values)."""
        d = self.data
        best = None
        theta, since = 1.0, 0
        for _ in range(max(1, iters)):
            L, menu, values, taken = self.evaluate(inside, outside, mu, beta)
            if self.offer_menus and menu.any():
                self.values.offer(menu)
            target = self.values.value
            if best is None or L < best[0]:
                best, since = (L, mu.copy(), beta, menu, values), 0
            else:
                since += 1
                if since >= 5:
                    theta, since = theta / 2, 0
            late = self.deadline is not None and time.perf_counter() >= self.deadline
            if not np.isfinite(L) or L <= target or late:
                break
            served = taken[:, menu].sum(axis=1)
            g_mu = d.w * (d.counts - served)
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
        return best
