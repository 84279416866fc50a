"""The fast-interchange bookkeeping of :mod:`.swap_state`, compiled (numba), dense gain table.

Same quantities (b1, c1, b2, c2 per row; G (m,), loss (k,), X (k, m)) and the same interface
as :class:`~coarse_mip.kernels.SwapState`, but each swap is one compiled pass over the rows
that test whether they are touched, instead of numpy and scipy.sparse calls whose fixed costs
dominate on TSPLIB-sized instances (rl1304, k = 400: about 2 ms a swap). X is dense, so this
backend serves k m <= :data:`DENSE_SWAP_ENTRIES`; :func:`swap_state` picks the backend.
"""

from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:                  # pragma: no cover - numba comes with EconML
    numba = None

__all__ = ["DENSE_SWAP_ENTRIES", "CompiledSwapState", "compiled_available"]

#: Largest k m for the dense (k, m) gain table: 2^24 entries are 128 MiB of float64.
DENSE_SWAP_ENTRIES = 1 << 24


def compiled_available() -> bool:
    return numba is not None


class CompiledSwapState:
    """Menu ``menu`` (k,), 2 <= k < m, over in-memory ``P`` (n, m) and weights ``w`` (n,).

    Attributes and methods as :class:`~coarse_mip.kernels.SwapState`: ``menu`` (slots to
    columns), ``value``, :meth:`best_swap`, :meth:`swap`, :meth:`snapshot`, :meth:`restore`.
    """

    def __init__(self, P: np.ndarray, w: np.ndarray, menu: np.ndarray):
        n, m = P.shape
        self.P = np.ascontiguousarray(P, dtype=np.float64)
        self.w = np.ascontiguousarray(w, dtype=np.float64)
        self.menu = np.array(menu, dtype=np.int64)
        k = self.menu.size
        if not 2 <= k < m:
            raise ValueError(f"CompiledSwapState needs 2 <= k < m, got k = {k}, m = {m}")
        self.c1, self.c2 = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
        self.b1, self.b2 = np.empty(n), np.empty(n)
        self.G, self.loss, self.X = np.empty(m), np.empty(k), np.empty((k, m))
        self.value = float(_build(self.P, self.w, self.menu, self.c1, self.c2, self.b1, self.b2,
                                  self.G, self.loss, self.X))

    def gains(self) -> np.ndarray:
        """gain(r, u) for every slot r and column u, shape (k, m); menu columns are -inf."""
        gain = self.G[None, :] - self.loss[:, None] + self.X
        gain[:, self.menu] = -np.inf
        return gain

    def best_swap(self) -> tuple[int, int, float]:
        """(slot r, column u, gain) of the best swap; the first in (r, u) order among equals."""
        r, u, gain = _best_swap(self.G, self.loss, self.X, self.menu)
        return int(r), int(u), float(gain)

    def swap(self, r: int, u: int) -> None:
        """Put column ``u`` (not in the menu) in slot ``r``; only the touched rows are redone."""
        self.value += float(_swap(self.P, self.w, self.menu, self.c1, self.c2, self.b1, self.b2,
                                  self.G, self.loss, self.X, int(r), int(u)))

    def snapshot(self) -> tuple:
        return tuple(a.copy() for a in (self.menu, self.b1, self.b2, self.c1, self.c2,
                                        self.G, self.loss, self.X)) + (self.value,)

    def restore(self, snap: tuple) -> None:
        (self.menu, self.b1, self.b2, self.c1, self.c2, self.G, self.loss, self.X, self.value) = snap


def _top_two(P, i, menu, c1, c2, b1, b2):
    """Best and second-best slot of row i (the first slot among equal values is c1)."""
    v1 = v2 = -np.inf
    s1 = s2 = -1
    for s in range(menu.size):
        v = P[i, menu[s]]
        if v > v1:
            v2, s2 = v1, s1
            v1, s1 = v, s
        elif v > v2 or s2 < 0:
            v2, s2 = v, s
    c1[i], b1[i], c2[i], b2[i] = s1, v1, s2, v2


def _account(P, w, i, c1, b1, b2, G, loss, X, sign):
    """Add (sign 1) or remove (sign -1) row i's terms: G(u) += w (P - b1)^+, loss(c1) += w (b1 - b2),
    X(c1, u) += w (clip(P, b2, b1) - b2)."""
    wi = sign * w[i]
    r, hi, lo = c1[i], b1[i], b2[i]
    loss[r] += wi * (hi - lo)
    for u in range(P.shape[1]):
        p = P[i, u]
        if p > lo:
            if p > hi:
                G[u] += wi * (p - hi)
                X[r, u] += wi * (hi - lo)
            else:
                X[r, u] += wi * (p - lo)


def _build(P, w, menu, c1, c2, b1, b2, G, loss, X):
    G[:] = 0.0
    loss[:] = 0.0
    X[:, :] = 0.0
    value = 0.0
    for i in range(P.shape[0]):
        _top_two(P, i, menu, c1, c2, b1, b2)
        _account(P, w, i, c1, b1, b2, G, loss, X, 1.0)
        value += w[i] * b1[i]
    return value


def _swap(P, w, menu, c1, c2, b1, b2, G, loss, X, r, u):
    """Slot r takes column u; returns the change of the menu's value (row by row, exact)."""
    menu[r] = u                 # removing a row's terms reads its slots and values, not the menu
    delta = 0.0
    for i in range(P.shape[0]):
        if c1[i] == r or c2[i] == r or P[i, u] > b2[i]:
            before = b1[i]
            _account(P, w, i, c1, b1, b2, G, loss, X, -1.0)
            _top_two(P, i, menu, c1, c2, b1, b2)
            _account(P, w, i, c1, b1, b2, G, loss, X, 1.0)
            delta += w[i] * (b1[i] - before)
    return delta


def _best_swap(G, loss, X, menu):
    k, m = X.shape
    outside = np.ones(m, dtype=np.bool_)
    for s in range(k):
        outside[menu[s]] = False
    best, br, bu = -np.inf, 0, 0
    for r in range(k):
        base = -loss[r]
        for u in range(m):
            if outside[u]:
                g = G[u] + base + X[r, u]
                if g > best:
                    best, br, bu = g, r, u
    return br, bu, best


if numba is not None:
    _jit = numba.njit(cache=True)
    _top_two, _account = _jit(_top_two), _jit(_account)
    _build, _swap, _best_swap = _jit(_build), _jit(_swap), _jit(_best_swap)
