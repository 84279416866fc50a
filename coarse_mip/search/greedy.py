"""Greedy construction: add, one at a time, the column with the largest weighted gain."""

from __future__ import annotations

import numpy as np

from .. import rows

__all__ = ["greedy_menu", "pad_menu"]


def greedy_menu(P: np.ndarray, w: np.ndarray, K: int, start=None) -> np.ndarray:
    """Greedy menu of at most ``K`` columns for profits ``P`` (n, m) and weights ``w`` (n,).

    Starts from ``start`` (column indices) or the best single column, then adds the column
    that raises ``sum_i w_i max_{t in menu} P[i, t]`` the most; stops early when no column
    adds value. Assumes validated float64 input. Cost O(K n m), one row block of memory.
    Returns sorted indices.
    """
    m = P.shape[1]
    menu = [best_single(P, w)] if start is None or len(start) == 0 else [int(t) for t in start]
    best = rows.best_on(P, np.asarray(menu))
    while len(menu) < min(K, m):
        gain = rows.excess(P, best, w)
        gain[menu] = -np.inf
        t = int(np.argmax(gain))
        if not gain[t] > 0.0:
            break
        menu.append(t)
        np.maximum(best, P[:, t], out=best)
    return np.sort(np.asarray(menu, dtype=np.intp))


def best_single(P: np.ndarray, w: np.ndarray) -> int:
    """The column with the largest weighted total (the optimal menu of one)."""
    return int(np.argmax(rows.column_totals(P, w)))


def pad_menu(menu: np.ndarray, K: int, m: int) -> np.ndarray:
    """Extend ``menu`` with the lowest unused columns to exactly ``min(K, m)`` (greedy may stop short)."""
    if menu.size >= min(K, m):
        return menu
    extra = np.setdiff1d(np.arange(m), menu)[: K - menu.size]
    return np.sort(np.concatenate([menu, extra]))
