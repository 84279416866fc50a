"""Bounded knapsacks with integer usages, one per column, by dynamic programming over the exact
load (formulations/constrained.md, L3): a compiled kernel (numba) and the numpy one it must
agree with.

For each column t: maximize ``sum_g V[g, t] z_g`` subject to ``need_t <= sum_g u_g z_g <= cap_t``
with integers ``0 <= z_g <= counts_g``; a group of several members is split into items of 1,
2, 4, ... members (binary splitting), so each item is taken at most once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dp_knapsacks", "split_items"]

try:
    import numba
except ImportError:                  # pragma: no cover - numba comes with EconML
    numba = None


def split_items(counts: np.ndarray, usage: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary splitting of the groups: (group of each item, members in it, its integer usage)."""
    groups, sizes = [], []
    for g in np.flatnonzero(counts > 0):
        left, k = int(counts[g]), 1
        while left > 0:
            groups.append(g)
            sizes.append(min(k, left))
            left -= sizes[-1]
            k *= 2
    groups, sizes = np.asarray(groups, dtype=np.int64), np.asarray(sizes, dtype=np.float64)
    return groups, sizes, np.round(usage[groups] * sizes).astype(np.int64)


def dp_knapsacks(V: np.ndarray, counts: np.ndarray, usage: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 *, compiled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(best value (c,), members taken (G, c)) of every column's knapsack; -inf when a column's
    ``need`` cannot be met. ``V`` (G, c) is -inf where a group may not be taken."""
    items, sizes, weight = split_items(counts, usage)
    total = float(usage @ counts)
    cap = np.floor(np.minimum(hi, total) + 1e-9).astype(np.int64)
    need = np.maximum(0, np.ceil(lo - 1e-9)).astype(np.int64)
    if compiled and numba is not None:
        return _dp_compiled(np.ascontiguousarray(V, dtype=np.float64), items, sizes, weight, cap, need)
    return _dp_numpy(V, items, sizes, weight, cap, need)


def _dp_numpy(V, items, sizes, weight, cap, need):
    """All columns at once, one item at a time."""
    G, c = V.shape
    C = int(cap.max(initial=0))
    dp = np.full((c, C + 1), -np.inf)
    dp[:, 0] = 0.0
    took = np.zeros((items.size, c, C + 1), dtype=bool)
    for r in range(items.size):
        q = int(weight[r])
        value = V[items[r]] * sizes[r]
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


def _dp_kernel(V, items, sizes, weight, cap, need):
    """One column at a time; items that cannot help a column (not eligible, too heavy, or
    worthless when no min load asks for them) are skipped for it."""
    G, c = V.shape
    n_items = items.size
    best = np.empty(c)
    take = np.zeros((G, c))
    C = 0
    for t in range(c):
        C = max(C, cap[t])
    dp = np.empty(C + 1)
    took = np.zeros((n_items, C + 1), dtype=np.bool_)
    used = np.zeros(n_items, dtype=np.bool_)
    for t in range(c):
        Ct = cap[t]
        if need[t] > Ct:
            best[t] = -np.inf
            continue
        for cc in range(Ct + 1):
            dp[cc] = -np.inf
        dp[0] = 0.0
        for r in range(n_items):
            v = V[items[r], t] * sizes[r]
            q = weight[r]
            used[r] = False
            if v == -np.inf or q > Ct or (v <= 0.0 and need[t] == 0):
                continue
            used[r] = True
            if q == 0:
                for cc in range(Ct + 1):
                    took[r, cc] = v > 0.0
                    if v > 0.0:
                        dp[cc] += v
                continue
            for cc in range(q):
                took[r, cc] = False
            for cc in range(Ct, q - 1, -1):
                cand = dp[cc - q] + v
                if cand > dp[cc]:
                    dp[cc] = cand
                    took[r, cc] = True
                else:
                    took[r, cc] = False
        at, value = need[t], -np.inf
        for cc in range(need[t], Ct + 1):
            if dp[cc] > value:
                at, value = cc, dp[cc]
        best[t] = value
        if value == -np.inf:
            continue
        cc = at
        for r in range(n_items - 1, -1, -1):
            if used[r] and took[r, cc]:
                take[items[r], t] += sizes[r]
                cc -= weight[r]
    return best, take


_dp_compiled = numba.njit(cache=True)(_dp_kernel) if numba is not None else _dp_kernel
