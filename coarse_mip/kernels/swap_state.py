"""Fast-interchange bookkeeping of a menu (Whitaker 1983; Resende & Werneck 2004).

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

import numpy as np
import scipy.sparse as sp

from .. import rows

__all__ = ["SwapState"]


class SwapState:
    """A menu of ``k >= 2`` slots over profits ``P`` (n, m), weights ``w`` (n,), with the
    per-row best/second-best slots and the gain tables of the module docstring.

    ``menu`` (k,) maps slots to columns; a swap replaces one slot's column, so slots persist.
    ``value`` is the menu's objective, kept up to date row by row.
    """

    def __init__(self, P: np.ndarray, w: np.ndarray, menu: np.ndarray):
        m = P.shape[1]
        self.P, self.w = P, w
        self.menu = np.array(menu, dtype=np.intp)
        k = self.menu.size
        if not 2 <= k < m:
            raise ValueError(f"SwapState needs 2 <= k < m, got k = {k}, m = {m}")
        self._build()

    def _build(self) -> None:
        """Every row's slots and the gain tables, in one pass over the rows."""
        menu, w, k = self.menu.copy(), self.w, self.menu.size

        def build(s, block):
            c1, b1, c2, b2 = rows.top_two(block[:, menu])
            G, loss, slots, X_slots = _terms(block, w[s], b1, b2, c1, k)
            X = np.zeros((k, block.shape[1]))
            X[slots] = X_slots
            return c1, b1, c2, b2, G, loss, X

        (self.c1, self.b1, self.c2, self.b2, self.G, self.loss,
         self.X) = rows.map_reduce(self.P, build, ("concat",) * 4 + ("sum",) * 3)
        self.value = float(w @ self.b1)

    def gains(self) -> np.ndarray:
        """gain(r, u) for every slot r and column u, shape (k, m); menu columns are -inf."""
        gain = self.G[None, :] - self.loss[:, None] + self.X
        gain[:, self.menu] = -np.inf
        return gain

    def swap(self, r: int, u: int) -> None:
        """Put column ``u`` (not in the menu) in slot ``r`` and update only the touched rows
        (rows that are not in memory: one new pass over all of them)."""
        if not rows.in_memory(self.P):
            self.menu[r] = u
            self._build()
            return
        touched = np.flatnonzero((self.c1 == r) | (self.c2 == r) | (self.P[:, u] > self.b2))
        self.menu[r] = u            # removing a row's terms reads its slots, not the menu
        # Touched rows in blocks: a swap at 10^6 rows may touch most of them.
        size = rows.block_rows(3 * 8 * self.P.shape[1])
        for s in rows.row_blocks(touched.size, size):
            where = touched[s]
            Pt = self.P[where]
            before = self.w[where] @ self.b1[where]
            self._account(where, Pt, -1.0)
            self._assign(where, Pt)
            self._account(where, Pt, 1.0)
            self.value += float(self.w[where] @ self.b1[where] - before)

    def snapshot(self) -> tuple:
        return tuple(a.copy() for a in (self.menu, self.b1, self.b2, self.c1, self.c2,
                                        self.G, self.loss, self.X)) + (self.value,)

    def restore(self, snap: tuple) -> None:
        (self.menu, self.b1, self.b2, self.c1, self.c2, self.G, self.loss, self.X, self.value) = snap

    def _assign(self, where, block: np.ndarray) -> None:
        self.c1[where], self.b1[where], self.c2[where], self.b2[where] = rows.top_two(block[:, self.menu])

    def _account(self, where, block: np.ndarray, sign: float) -> None:
        """Add (sign = 1) or remove (sign = -1) the rows' terms in G, loss and X."""
        G, loss, slots, X = _terms(block, self.w[where], self.b1[where], self.b2[where], self.c1[where],
                                   self.menu.size)
        self.G += sign * G
        self.loss += sign * loss
        self.X[slots] += sign * X


def _terms(block: np.ndarray, w, b1, b2, c1, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows' terms of G (m,), loss (k,) and X (module docstring) on the slots the rows use:
    (slots (s,), X[slots] (s, m)); a swap touches the rows of a few slots, not all k."""
    G = rows.weighted_excess(block, b1, w)
    loss = np.bincount(c1, weights=w * (b1 - b2), minlength=k)
    # (P - b2)^+ - (P - b1)^+ = clip(P, b2, b1) - b2 since b2 <= b1.
    D = np.clip(block, b2[:, None], b1[:, None]) - b2[:, None]
    slots, slot_of_row = np.unique(c1, return_inverse=True)
    by_slot = sp.csr_matrix((w, (slot_of_row.ravel(), np.arange(c1.size))), shape=(slots.size, c1.size))
    return G, loss, slots, by_slot @ D
