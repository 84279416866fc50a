"""Single-peaked rows along the column order: detection (D1) and the pair tables (D4)-(D6) of
the exact dynamic program (formulations/ladder.md), one pass over the row blocks.

The pair table has a compiled kernel (numba, two pointers per row, O(m)) and a numpy
reference that sums (D6) by its definition (O(m^2) per row); the tests check they agree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import rows

__all__ = ["LadderTables", "block_peaks", "ladder_tables", "peaks"]

try:
    import numba
except ImportError:                  # pragma: no cover - numba comes with EconML
    numba = None

#: Rows checked first, then more: a matrix that is not single-peaked is usually caught in the
#: first few rows (a distance matrix in its first), for the price of a small block instead of
#: a full pass.
PROBE_ROWS = (64, 2_000)


class LadderTables(NamedTuple):
    """The sums over rows that the dynamic program needs, all (m,) or (m, m)."""

    left: np.ndarray       # L(b) (D4): rows with peak < b, on column b
    right: np.ndarray      # R(a) (D5): rows with peak >= a, on column a
    pairs: np.ndarray      # g(a, b) (D6) for a < b; 0 elsewhere


def block_peaks(block: np.ndarray) -> np.ndarray:
    """Peak of each row of ``block`` (b, m) under (D1), or -1 where the row is not single-peaked."""
    if block.shape[1] == 1:
        return np.zeros(block.shape[0], dtype=np.int64)
    d = np.diff(block, axis=1)
    down = d < 0
    fell = np.logical_or.accumulate(down, axis=1)
    bad = (fell[:, :-1] & (d[:, 1:] > 0)).any(axis=1)
    peak = np.where(down.any(axis=1), np.argmax(down, axis=1), block.shape[1] - 1)
    return np.where(bad, -1, peak)


def peaks(P: np.ndarray, *, probe: bool = True) -> np.ndarray:
    """Peaks (n,) of the rows of ``P`` (n, m) under (D1), -1 for a row that is not single-peaked.

    With ``probe``, rows after the first :data:`PROBE_ROWS` are not checked once one of those
    fails (their entries stay -1)."""
    n = P.shape[0]
    for size in PROBE_ROWS if probe else ():
        if n <= size:
            break
        first = block_peaks(rows.take(P, np.arange(size)))
        if (first < 0).any():
            return np.concatenate([first, np.full(n - first.size, -1)])
    return rows.map_reduce(P, lambda s, b: (block_peaks(b),), ("concat",))[0]


def ladder_tables(P: np.ndarray, w: np.ndarray, peak: np.ndarray, *, compiled: bool = True) -> LadderTables:
    """(D4)-(D6) for rows ``P`` (n, m) with weights ``w`` (n,) and peaks ``peak`` (n,), all >= 0."""
    m = P.shape[1]
    kernel = _accumulate_compiled if compiled and numba is not None else _accumulate_numpy

    def block(s, b):
        T, C, E = np.zeros((m, m)), np.zeros((m, m + 1)), np.zeros((m + 1, m))
        kernel(np.ascontiguousarray(b, dtype=np.float64), np.ascontiguousarray(w[s], dtype=np.float64),
               np.ascontiguousarray(peak[s], dtype=np.int64), T, C, E)
        return T, C, E

    T, C, E = rows.map_reduce(P, block, ("sum", "sum", "sum"))
    # T[p, t] = sum of w_i P[i, t] over the rows with peak p.
    left = np.triu(T, 1).sum(axis=0)                 # (D4): p < b
    right = np.tril(T).sum(axis=0)                   # (D5): p >= a
    pairs = np.cumsum(C, axis=1)[:, :m] + np.cumsum(E, axis=0)[:m]
    return LadderTables(left, right, np.triu(pairs, 1))


def _accumulate_kernel(P, w, peak, T, C, E):
    """Per row: T[p] += w x; the two-pointer ranges of formulations/ladder.md as differences,
    C along b (P[i, a] for every b > B(a)), E along a (P[i, b] for every a <= A(b))."""
    n, m = P.shape
    for i in range(n):
        p = peak[i]
        wi = w[i]
        for t in range(m):
            T[p, t] += wi * P[i, t]
        j = m - 1                                    # B(a): last b > p with P[b] >= P[a]
        for a in range(p + 1):
            while j > p and P[i, j] < P[i, a]:
                j -= 1
            C[a, j + 1] += wi * P[i, a]
        k = p                                        # A(b): last a <= p with P[a] <= P[b]
        for b in range(p + 1, m):
            while k >= 0 and P[i, k] > P[i, b]:
                k -= 1
            E[0, b] += wi * P[i, b]
            E[k + 1, b] -= wi * P[i, b]


_accumulate_compiled = numba.njit(cache=True)(_accumulate_kernel) if numba is not None else _accumulate_kernel


def _accumulate_numpy(P, w, peak, T, C, E):
    """Reference: (D6) summed by definition per peak (memory: rows x m^2 / 4 per peak),
    written into C as differences along b so that the same cumulative sum recovers it; E stays 0."""
    m = P.shape[1]
    np.add.at(T, peak, w[:, None] * P)
    for p in np.unique(peak):
        if p == m - 1:
            continue
        on = peak == p
        X, wp = P[on], w[on]
        g = np.einsum("i,iab->ab", wp, np.maximum(X[:, : p + 1, None], X[:, None, p + 1:]))   # (p+1, m-p-1)
        inc = np.diff(g, axis=1, prepend=0.0)
        C[: p + 1, p + 1: m] += inc
