"""Swap local search with fast-interchange bookkeeping (Whitaker 1983; Resende & Werneck 2004).

For the current menu each row keeps its best chosen value ``b1`` (on menu slot ``c1``) and
its second best ``b2``. The gain of swapping slot r out for column u is then

    gain(r, u) = G(u) - loss(r) + X(r, u)
    G(u)       = sum_i w_i (P_iu - b1_i)^+                             (u helps row i)
    loss(r)    = sum_{i: c1_i = r} w_i (b1_i - b2_i)                  (rows losing their best)
    X(r, u)    = sum_{i: c1_i = r} w_i [(P_iu - b2_i)^+ - (P_iu - b1_i)^+]

so the whole K x m neighbourhood costs O(n m) array work per step, in row blocks.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

__all__ = ["swap_search", "menu_value"]

#: Rows per block in the O(n m) passes: keeps temporaries in cache instead of n x m copies.
BLOCK_ROWS = 16_384


def menu_value(P: np.ndarray, w: np.ndarray, menu: np.ndarray) -> float:
    """``sum_i w_i max_{t in menu} P[i, t]``, in row blocks."""
    return float(sum(w[s] @ P[s][:, menu].max(axis=1) for s in _blocks(P.shape[0])))


def swap_search(P: np.ndarray, w: np.ndarray, menu: np.ndarray, *, deadline: float | None = None,
                max_swaps: int = 100_000) -> tuple[np.ndarray, int]:
    """Best-improvement swaps from ``menu`` until no swap gains (or the deadline passes).

    ``P`` (n, m) float64, ``w`` (n,) > 0 and ``menu`` (k,) distinct columns are trusted.
    Returns (locally optimal menu sorted, number of swaps made). The value never decreases:
    each swap is re-evaluated exactly before it is accepted.
    """
    n, m = P.shape
    menu = np.sort(np.asarray(menu, dtype=np.intp))
    k = menu.size
    if k == m:
        return menu, 0
    if k == 1:                       # a single column: the best one is optimal
        return np.array([int(np.argmax(w @ P))]), 0
    value = menu_value(P, w, menu)
    tol = 1e-12 * max(1.0, float(np.abs(w) @ np.abs(P).max(axis=1)))
    swaps = 0
    while swaps < max_swaps and (deadline is None or time.perf_counter() < deadline):
        gain = _swap_gains(P, w, menu)
        gain[:, menu] = -np.inf
        r, u = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if not gain[r, u] > tol:
            break
        trial = menu.copy()
        trial[r] = u
        trial.sort()
        trial_value = menu_value(P, w, trial)
        if not trial_value > value:
            break                    # float noise in the gain formula: stop rather than cycle
        menu, value = trial, trial_value
        swaps += 1
    return menu, swaps


def _swap_gains(P: np.ndarray, w: np.ndarray, menu: np.ndarray) -> np.ndarray:
    """gain(r, u) for every menu slot r and column u, shape (k, m)."""
    n, m = P.shape
    k = menu.size
    G = np.zeros(m)
    X = np.zeros((k, m))
    loss = np.zeros(k)
    for s in _blocks(n):
        Pb, wb = P[s], w[s]
        sub = Pb[:, menu]
        top2 = np.argpartition(-sub, 1, axis=1)[:, :2]
        rows = np.arange(sub.shape[0])
        c1 = top2[:, 0]
        b1 = sub[rows, c1]
        b2 = sub[rows, top2[:, 1]]
        # argpartition puts the largest first, ties aside: keep c1 the arg of b1.
        swap = b2 > b1
        c1 = np.where(swap, top2[:, 1], c1)
        b1, b2 = np.maximum(b1, b2), np.minimum(b1, b2)
        over1 = np.maximum(Pb - b1[:, None], 0.0)
        G += wb @ over1
        loss += np.bincount(c1, weights=wb * (b1 - b2), minlength=k)
        D = wb[:, None] * (np.maximum(Pb - b2[:, None], 0.0) - over1)
        X += sp.csr_matrix((np.ones(rows.size), (c1, rows)), shape=(k, rows.size)) @ D
    return G[None, :] - loss[:, None] + X


def _blocks(n: int):
    return (slice(i, min(i + BLOCK_ROWS, n)) for i in range(0, n, BLOCK_ROWS))
