"""Swap local search with fast-interchange bookkeeping (Whitaker 1983; Resende & Werneck 2004).

For the current menu each row keeps its best chosen value ``b1`` (on menu slot ``c1``) and
its second best ``b2`` (slot ``c2``). The gain of swapping slot r out for column u is then

    gain(r, u) = G(u) - loss(r) + X(r, u)
    G(u)       = sum_i w_i (P_iu - b1_i)^+                             (u helps row i)
    loss(r)    = sum_{i: c1_i = r} w_i (b1_i - b2_i)                  (rows losing their best)
    X(r, u)    = sum_{i: c1_i = r} w_i [(P_iu - b2_i)^+ - (P_iu - b1_i)^+]

so the whole k x m neighbourhood is one (k, m) array. :class:`SwapState` keeps G, loss and X
up to date: a swap only touches the rows whose best or second best slot left, or for which
the new column beats the second best, so a step costs O(|touched| m) instead of O(n m).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from ..blocks import row_blocks

__all__ = ["SwapState", "local_search", "menu_value", "row_values", "swap_search"]


def row_values(P: np.ndarray, menu: np.ndarray) -> np.ndarray:
    """Each row's best value on ``menu``: ``max_{t in menu} P[i, t]``, shape (n,)."""
    return np.concatenate([P[s][:, menu].max(axis=1) for s in row_blocks(P.shape[0])])


def menu_value(P: np.ndarray, w: np.ndarray, menu: np.ndarray) -> float:
    """``sum_i w_i max_{t in menu} P[i, t]``."""
    return float(w @ row_values(P, menu))


class SwapState:
    """A menu of ``k >= 2`` slots over profits ``P`` (n, m), weights ``w`` (n,), with the
    per-row best/second-best slots and the gain tables of the module docstring.

    ``menu`` (k,) maps slots to columns; a swap replaces one slot's column, so slots persist.
    ``value`` is the menu's objective, kept up to date row by row.
    """

    def __init__(self, P: np.ndarray, w: np.ndarray, menu: np.ndarray):
        n, m = P.shape
        self.P, self.w = P, w
        self.menu = np.array(menu, dtype=np.intp)
        k = self.menu.size
        if not 2 <= k < m:
            raise ValueError(f"SwapState needs 2 <= k < m, got k = {k}, m = {m}")
        self.b1, self.b2 = np.empty(n), np.empty(n)
        self.c1, self.c2 = np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp)
        self.G, self.loss, self.X = np.zeros(m), np.zeros(k), np.zeros((k, m))
        for s in row_blocks(n):
            Ps = P[s]
            self._assign(s, Ps)
            self._account(s, Ps, 1.0)
        self.value = float(w @ self.b1)

    def gains(self) -> np.ndarray:
        """gain(r, u) for every slot r and column u, shape (k, m); menu columns are -inf."""
        gain = self.G[None, :] - self.loss[:, None] + self.X
        gain[:, self.menu] = -np.inf
        return gain

    def swap(self, r: int, u: int) -> None:
        """Put column ``u`` (not in the menu) in slot ``r`` and update only the touched rows."""
        touched = np.flatnonzero((self.c1 == r) | (self.c2 == r) | (self.P[:, u] > self.b2))
        Pt = self.P[touched]
        before = self.w[touched] @ self.b1[touched]
        self._account(touched, Pt, -1.0)
        self.menu[r] = u
        self._assign(touched, Pt)
        self._account(touched, Pt, 1.0)
        self.value += float(self.w[touched] @ self.b1[touched] - before)

    def snapshot(self) -> tuple:
        return tuple(a.copy() for a in (self.menu, self.b1, self.b2, self.c1, self.c2,
                                        self.G, self.loss, self.X)) + (self.value,)

    def restore(self, snap: tuple) -> None:
        (self.menu, self.b1, self.b2, self.c1, self.c2, self.G, self.loss, self.X, self.value) = snap

    def _assign(self, rows, Pr: np.ndarray) -> None:
        sub = Pr[:, self.menu]
        top2 = np.argpartition(-sub, 1, axis=1)[:, :2]
        idx = np.arange(sub.shape[0])
        v0, v1 = sub[idx, top2[:, 0]], sub[idx, top2[:, 1]]
        # argpartition does not promise which of two equal-rank entries comes first.
        flip = v1 > v0
        self.c1[rows] = np.where(flip, top2[:, 1], top2[:, 0])
        self.c2[rows] = np.where(flip, top2[:, 0], top2[:, 1])
        self.b1[rows] = np.maximum(v0, v1)
        self.b2[rows] = np.minimum(v0, v1)

    def _account(self, rows, Pr: np.ndarray, sign: float) -> None:
        """Add (sign = 1) or remove (sign = -1) the rows' terms in G, loss and X."""
        w, b1, b2, c1 = self.w[rows], self.b1[rows, None], self.b2[rows, None], self.c1[rows]
        k = self.menu.size
        self.G += sign * (w @ np.maximum(Pr - b1, 0.0))
        self.loss += sign * np.bincount(c1, weights=w * (b1 - b2)[:, 0], minlength=k)
        # (P - b2)^+ - (P - b1)^+ = clip(P, b2, b1) - b2 since b2 <= b1.
        D = np.clip(Pr, b2, b1) - b2
        by_slot = sp.csr_matrix((sign * w, (c1, np.arange(c1.size))), shape=(k, c1.size))
        self.X += by_slot @ D


def local_search(state: SwapState, *, deadline: float | None = None, max_swaps: int = 100_000) -> int:
    """Best-improvement swaps on ``state`` until none gains; returns the number made.

    A swap is kept only if the exact row-by-row value rises, so float drift in the gain tables
    can end the search early but never lowers the value or cycles.
    """
    tol = 1e-12 * max(1.0, abs(state.value))
    swaps = 0
    while swaps < max_swaps and (deadline is None or time.perf_counter() < deadline):
        gain = state.gains()
        r, u = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if not gain[r, u] > tol:
            break
        old, value = int(state.menu[r]), state.value
        state.swap(r, u)
        if not state.value > value:
            state.swap(r, old)           # drift made a non-improving swap look good: undo, stop
            break
        swaps += 1
    return swaps


def swap_search(P: np.ndarray, w: np.ndarray, menu: np.ndarray, *, deadline: float | None = None,
                max_swaps: int = 100_000) -> tuple[np.ndarray, int]:
    """Best-improvement swaps from ``menu`` (k,) until no swap gains (or the deadline passes).

    ``P`` (n, m) float64, ``w`` (n,) > 0 and distinct columns are trusted. Returns (locally
    optimal menu sorted, number of swaps made).
    """
    menu = np.sort(np.asarray(menu, dtype=np.intp))
    if menu.size >= P.shape[1]:
        return menu, 0
    if menu.size == 1:               # a single column: the best one is optimal
        return np.array([int(np.argmax(w @ P))]), 0
    state = SwapState(P, w, menu)
    swaps = local_search(state, deadline=deadline, max_swaps=max_swaps)
    return np.sort(state.menu), swaps
