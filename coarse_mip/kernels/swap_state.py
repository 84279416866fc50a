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
X >= 0 is nonzero only where a column beats a row's second best: for large k x m it is kept
sparse, and the best swap is the better of the best (G - loss) pair and the best over X's
nonzeros, so a step no longer reads all k m entries.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .. import rows
from .swap_compiled import DENSE_SWAP_ENTRIES, CompiledSwapState, compiled_available

__all__ = ["SPARSE_SWAP_ENTRIES", "SwapState", "swap_state"]

#: X is sparse above this many entries (k m): rl5934 with k = 1000 spent 28 s of a 124 s solve
#: building dense (k, m) gain tables.
SPARSE_SWAP_ENTRIES = 1 << 18


class SwapState:
    """A menu of ``k >= 2`` slots over profits ``P`` (n, m), weights ``w`` (n,), with the
    per-row best/second-best slots and the gain tables of the module docstring.

    ``menu`` (k,) maps slots to columns; a swap replaces one slot's column, so slots persist.
    ``value`` is the menu's objective, kept up to date row by row.
    """

    def __init__(self, P: np.ndarray, w: np.ndarray, menu: np.ndarray, sparse: bool | None = None):
        m = P.shape[1]
        self.P, self.w = P, w
        self.menu = np.array(menu, dtype=np.intp)
        k = self.menu.size
        if not 2 <= k < m:
            raise ValueError(f"SwapState needs 2 <= k < m, got k = {k}, m = {m}")
        self.sparse = k * m > SPARSE_SWAP_ENTRIES if sparse is None else bool(sparse)
        self._build()

    def _build(self) -> None:
        """Every row's slots and the gain tables, in one pass over the rows."""
        menu, w, k = self.menu.copy(), self.w, self.menu.size

        def build(s, block):
            c1, b1, c2, b2 = rows.top_two(block[:, menu])
            G, loss, slots, X_slots = _terms(block, w[s], b1, b2, c1, k, self.sparse)
            return c1, b1, c2, b2, G, loss, _on_slots(slots, X_slots, k, self.sparse)

        (self.c1, self.b1, self.c2, self.b2, self.G, self.loss,
         self.X) = rows.map_reduce(self.P, build, ("concat",) * 4 + ("sum",) * 3)
        self.value = float(w @ self.b1)

    def gains(self) -> np.ndarray:
        """gain(r, u) for every slot r and column u, shape (k, m); menu columns are -inf."""
        gain = self.G[None, :] - self.loss[:, None] + (self.X.toarray() if self.sparse else self.X)
        gain[:, self.menu] = -np.inf
        return gain

    def best_swap(self) -> tuple[int, int, float]:
        """(slot r, column u, gain) of the best swap (module docstring)."""
        if not self.sparse:
            gain = self.gains()
            r, u = np.unravel_index(int(np.argmax(gain)), gain.shape)
            return int(r), int(u), float(gain[r, u])
        G = self.G.copy()
        G[self.menu] = -np.inf
        # X >= 0, so off X's nonzeros no pair beats the largest G with the smallest loss.
        r, u = int(np.argmin(self.loss)), int(np.argmax(G))
        best = (r, u, float(G[u] - self.loss[r] + self.X[r, u]))
        X = self.X.tocoo()
        if X.nnz:
            gain = G[X.col] - self.loss[X.row] + X.data
            j = int(np.argmax(gain))
            if gain[j] > best[2]:
                best = (int(X.row[j]), int(X.col[j]), float(gain[j]))
        return best

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
        if self.sparse:
            self.X.eliminate_zeros()      # entries that cancelled would pile up swap after swap

    def snapshot(self) -> tuple:
        return tuple(a.copy() for a in (self.menu, self.b1, self.b2, self.c1, self.c2,
                                        self.G, self.loss, self.X)) + (self.value,)

    def restore(self, snap: tuple) -> None:
        (self.menu, self.b1, self.b2, self.c1, self.c2, self.G, self.loss, self.X, self.value) = snap

    def _assign(self, where, block: np.ndarray) -> None:
        self.c1[where], self.b1[where], self.c2[where], self.b2[where] = rows.top_two(block[:, self.menu])

    def _account(self, where, block: np.ndarray, sign: float) -> None:
        """Add (sign = 1) or remove (sign = -1) the rows' terms in G, loss and X."""
        k = self.menu.size
        G, loss, slots, X = _terms(block, self.w[where], self.b1[where], self.b2[where], self.c1[where], k,
                                   self.sparse)
        self.G += sign * G
        self.loss += sign * loss
        if self.sparse:
            self.X = self.X + _on_slots(slots, sign * X, k, True)
        else:
            self.X[slots] += sign * X


def _terms(block: np.ndarray, w, b1, b2, c1, k: int, sparse: bool) -> tuple:
    """The rows' terms of G (m,), loss (k,) and X (module docstring) on the slots the rows use:
    (slots (s,), X[slots] (s, m), CSR if ``sparse``); a swap touches the rows of a few slots."""
    G = rows.weighted_excess(block, b1, w)
    loss = np.bincount(c1, weights=w * (b1 - b2), minlength=k)
    # (P - b2)^+ - (P - b1)^+ = clip(P, b2, b1) - b2 since b2 <= b1.
    D = np.clip(block, b2[:, None], b1[:, None]) - b2[:, None]
    slots, slot_of_row = np.unique(c1, return_inverse=True)
    by_slot = sp.csr_matrix((w, (slot_of_row.ravel(), np.arange(c1.size))), shape=(slots.size, c1.size))
    return G, loss, slots, by_slot @ (sp.csr_matrix(D) if sparse else D)


def _on_slots(slots: np.ndarray, X, k: int, sparse: bool):
    """(k, m) with the rows ``X`` (s, m) at ``slots`` and zeros elsewhere (CSR if ``sparse``)."""
    if sparse:
        place = sp.csr_matrix((np.ones(slots.size), (slots, np.arange(slots.size))), shape=(k, slots.size))
        return (place @ X).tocsr()
    full = np.zeros((k, X.shape[1]))
    full[slots] = X
    return full


def swap_state(P, w: np.ndarray, menu: np.ndarray) -> SwapState | CompiledSwapState:
    """The bookkeeping of ``menu`` (k,) on ``P`` (n, m): compiled with a dense gain table when
    numba is there, the rows are in memory and k m <= DENSE_SWAP_ENTRIES; else :class:`SwapState`.
    Both take the same swaps (tests/test_heuristics.py)."""
    if compiled_available() and rows.in_memory(P) and np.size(menu) * P.shape[1] <= DENSE_SWAP_ENTRIES:
        return CompiledSwapState(P, w, menu)
    return SwapState(P, w, menu)
