"""Greedy construction: add, one at a time, the column with the largest weighted gain."""

from __future__ import annotations

import numpy as np

__all__ = ["greedy_menu"]


def greedy_menu(P: np.ndarray, w: np.ndarray, K: int) -> np.ndarray:
    """Greedy menu of at most ``K`` columns for profits ``P`` (n, m) and weights ``w`` (n,).

    Starts from the best single column, then adds the column that raises
    ``sum_i w_i max_{t in menu} P[i, t]`` the most; stops early when no column adds value.
    Assumes validated float64 input. Cost O(K n m). Returns sorted column indices.
    """
    n, m = P.shape
    first = int(np.argmax(w @ P))
    menu = [first]
    best = P[:, first].copy()
    for _ in range(1, min(K, m)):
        gain = w @ np.maximum(P - best[:, None], 0.0)
        gain[menu] = -np.inf
        t = int(np.argmax(gain))
        if not gain[t] > 0.0:
            break
        menu.append(t)
        np.maximum(best, P[:, t], out=best)
    return np.sort(np.asarray(menu, dtype=np.intp))
