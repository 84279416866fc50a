"""The passes over the rows in a Lagrangian node bound (formulations/benders.md, B11): the
free columns' weighted excess over the row levels, and each row's count of chosen columns
above its level (the subgradient).

Compiled (numba): one read of the selected entries, no copies. The numpy twin reads row blocks
(views when the rows or columns are whole); the tests check the two agree.
"""

from __future__ import annotations

import numpy as np

from .. import rows

__all__ = ["counts_above", "excess_sums", "row_max"]

try:
    import numba
except ImportError:                  # pragma: no cover - numba comes with EconML
    numba = None

#: Whether the compiled kernels run (tests switch it off to check the numpy twin).
_kernels = numba is not None


def excess_sums(P: np.ndarray, sel: np.ndarray | None, cols: np.ndarray | None, level: np.ndarray,
                weights: np.ndarray, *, block: int | None = None) -> np.ndarray:
    """(c,) ``sum_k weights_k (P[sel_k, cols_j] - level_k)^+`` for each column ``cols_j``.

    ``sel`` (r,) rows and ``cols`` (c,) columns of ``P`` (n, m), None for all of them; ``level``
    and ``weights`` (r,). ``block``: rows per block of the numpy twin."""
    sel, cols = _whole(P, sel, cols)
    if _kernels:
        out = np.zeros(cols.size)
        _excess_compiled(P, sel, cols, level, weights, out)
        return out
    size = rows.block_rows(8 * max(1, cols.size)) if block is None else block
    out = np.zeros(cols.size)
    scratch = np.empty((min(sel.size, size), cols.size))
    for b in rows.row_blocks(sel.size, size):
        out += rows.weighted_excess(_block(P, sel, cols, b), level[b], weights[b],
                                    out=scratch[: b.stop - b.start])
    return out


def counts_above(P: np.ndarray, sel: np.ndarray | None, cols: np.ndarray, level: np.ndarray) -> np.ndarray:
    """(r,) ``#{j : P[sel_k, cols_j] > level_k}`` for the rows ``sel`` (None: all) of ``P``."""
    sel, cols = _whole(P, sel, cols)
    if _kernels:
        out = np.zeros(sel.size, dtype=np.int64)
        _counts_compiled(P, sel, cols, level, out)
        return out
    return (_block(P, sel, cols, slice(0, sel.size)) > level[:, None]).sum(axis=1)


def row_max(P: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(n,) the largest of each row of ``P`` (n, m) over ``cols``; -inf when ``cols`` is empty."""
    if _kernels:
        out = np.full(P.shape[0], -np.inf)
        _max_compiled(P, cols, out)
        return out
    return _block(P, np.arange(P.shape[0]), cols, slice(0, P.shape[0])).max(axis=1, initial=-np.inf)


def _whole(P, sel, cols):
    n, m = P.shape
    return (np.arange(n) if sel is None else sel), (np.arange(m) if cols is None else cols)


def _block(P: np.ndarray, sel: np.ndarray, cols: np.ndarray, b: slice) -> np.ndarray:
    """Rows ``sel[b]`` x columns ``cols`` of ``P``: a view when both are whole (a root node at
    10^6 x 101: 0.36 s per subgradient step against 1.6 s through a fancy index), else a copy
    with no fancy index on a whole axis."""
    whole_rows = sel.size == P.shape[0]
    if cols.size == P.shape[1]:
        return P[b] if whole_rows else P[sel[b]]
    return P[b][:, cols] if whole_rows else P[np.ix_(sel[b], cols)]


def _excess_kernel(P, sel, cols, level, weights, out):
    for k in range(sel.size):
        i, lv, wk = sel[k], level[k], weights[k]
        for j in range(cols.size):
            v = P[i, cols[j]] - lv
            if v > 0.0:
                out[j] += wk * v


def _counts_kernel(P, sel, cols, level, out):
    for k in range(sel.size):
        i, lv, c = sel[k], level[k], 0
        for j in range(cols.size):
            if P[i, cols[j]] > lv:
                c += 1
        out[k] = c


def _max_kernel(P, cols, out):
    for i in range(P.shape[0]):
        best = out[i]
        for j in range(cols.size):
            if P[i, cols[j]] > best:
                best = P[i, cols[j]]
        out[i] = best


if numba is not None:
    _max_compiled = numba.njit(cache=True, nogil=True)(_max_kernel)
    _excess_compiled = numba.njit(cache=True, nogil=True)(_excess_kernel)
    _counts_compiled = numba.njit(cache=True, nogil=True)(_counts_kernel)
