"""The passes over the rows in a Lagrangian node bound (formulations/benders.md, B11): the
free columns' weighted excess over the row levels, and each row's count of chosen columns
above its level (the subgradient).

Compiled (numba): one read of the selected entries, no copies; with each row's T best entries
sorted (:func:`node_tops`), a row is read only down to its level: a few entries instead of m
(the passes are memory-bound). The numpy twin reads row blocks (views when the rows or columns
are whole); the tests check they agree.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import rows
from .separation import TopColumns

__all__ = ["NodeTops", "counts_above", "excess_sums", "node_tops", "row_max"]

try:
    import numba
except ImportError:                  # pragma: no cover - numba comes with EconML
    numba = None

#: Whether the compiled kernels run (tests switch it off to check the numpy twin).
_kernels = numba is not None

#: Entries per row in the sorted lists: rows of the noisy CATE sweep have 3-6 entries above
#: their level on average, 9-19 at the 99th percentile (m = 51, 101); the others read the row.
TOP_ENTRIES = 16


class NodeTops(NamedTuple):
    """Each row's T best entries by decreasing value (n, T), their columns (n, T) in the
    smallest integer type, and the T-th best (n,) apart, so that the check whether a row's list
    is complete reads no more of the row's list than the walk does."""

    values: np.ndarray
    columns: np.ndarray
    last: np.ndarray


def node_tops(P: np.ndarray, T: int = TOP_ENTRIES) -> NodeTops | None:
    """The sorted lists of ``P`` (n, m) for the compiled passes; None without them."""
    if not _kernels:
        return None
    cols = TopColumns(P, min(T, P.shape[1])).lists()
    values = np.take_along_axis(P, cols.astype(np.intp), axis=1)
    return NodeTops(values, cols, np.ascontiguousarray(values[:, -1]))


def excess_sums(P: np.ndarray, sel: np.ndarray | None, cols: np.ndarray | None, level: np.ndarray,
                weights: np.ndarray, *, block: int | None = None, tops: NodeTops | None = None) -> np.ndarray:
    """(c,) ``sum_k weights_k (P[sel_k, cols_j] - level_k)^+`` for each column ``cols_j``.

    ``sel`` (r,) rows and ``cols`` (c,) columns of ``P`` (n, m), None for all of them; ``level``
    and ``weights`` (r,). ``block``: rows per block of the numpy twin; ``tops``: P's sorted lists."""
    sel, cols = _whole(P, sel, cols)
    if _kernels:
        out = np.zeros(cols.size)
        if tops is None:
            _excess_compiled(P, sel, cols, level, weights, out)
        else:
            pos = np.full(P.shape[1], -1, dtype=np.int64)
            pos[cols] = np.arange(cols.size)
            _excess_top_compiled(P, tops.values, tops.columns, tops.last, sel, pos, level, weights, out)
        return out
    size = rows.block_rows(8 * max(1, cols.size)) if block is None else block
    out = np.zeros(cols.size)
    scratch = np.empty((min(sel.size, size), cols.size))
    for b in rows.row_blocks(sel.size, size):
        out += rows.weighted_excess(_block(P, sel, cols, b), level[b], weights[b],
                                    out=scratch[: b.stop - b.start])
    return out


def counts_above(P: np.ndarray, sel: np.ndarray | None, cols: np.ndarray, level: np.ndarray, *,
                 tops: NodeTops | None = None) -> np.ndarray:
    """(r,) ``#{j : P[sel_k, cols_j] > level_k}`` for the rows ``sel`` (None: all) of ``P``."""
    sel, cols = _whole(P, sel, cols)
    if _kernels:
        out = np.zeros(sel.size, dtype=np.int64)
        if tops is None:
            _counts_compiled(P, sel, cols, level, out)
        else:
            _counts_top_compiled(P, tops.values, tops.columns, tops.last, sel, _mask(P, cols), level, out)
        return out
    return (_block(P, sel, cols, slice(0, sel.size)) > level[:, None]).sum(axis=1)


def row_max(P: np.ndarray, cols: np.ndarray, *, tops: NodeTops | None = None) -> np.ndarray:
    """(n,) the largest of each row of ``P`` (n, m) over ``cols``; -inf when ``cols`` is empty."""
    if _kernels:
        out = np.full(P.shape[0], -np.inf)
        if tops is None:
            _max_compiled(P, cols, out)
        else:
            _max_top_compiled(P, tops.values, tops.columns, _mask(P, cols), out)
        return out
    return _block(P, np.arange(P.shape[0]), cols, slice(0, P.shape[0])).max(axis=1, initial=-np.inf)


def _mask(P, cols):
    mask = np.zeros(P.shape[1], dtype=np.bool_)
    mask[cols] = True
    return mask


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


# With the sorted lists: a row whose T-th best entry is above its level may have more entries
# above it than the list holds, and is read in full.

def _excess_top_kernel(P, vals, tcols, last, sel, pos, level, weights, out):
    T = vals.shape[1]
    for k in range(sel.size):
        i, lv, wk = sel[k], level[k], weights[k]
        if last[i] > lv:
            for t in range(P.shape[1]):
                v = P[i, t] - lv
                if pos[t] >= 0 and v > 0.0:
                    out[pos[t]] += wk * v
            continue
        for r in range(T):
            v = vals[i, r] - lv
            if not v > 0.0:
                break
            j = pos[tcols[i, r]]
            if j >= 0:
                out[j] += wk * v


def _counts_top_kernel(P, vals, tcols, last, sel, mask, level, out):
    T = vals.shape[1]
    for k in range(sel.size):
        i, lv, c = sel[k], level[k], 0
        if last[i] > lv:
            for t in range(P.shape[1]):
                if mask[t] and P[i, t] > lv:
                    c += 1
        else:
            for r in range(T):
                if not vals[i, r] > lv:
                    break
                if mask[tcols[i, r]]:
                    c += 1
        out[k] = c


def _max_top_kernel(P, vals, tcols, mask, out):
    # The list holds the row's T best entries: a masked one in it is the masked maximum.
    T = vals.shape[1]
    for i in range(P.shape[0]):
        found = False
        for r in range(T):
            if mask[tcols[i, r]]:
                out[i], found = vals[i, r], True
                break
        if not found:
            for t in range(P.shape[1]):
                if mask[t] and P[i, t] > out[i]:
                    out[i] = P[i, t]


if numba is not None:
    _excess_top_compiled = numba.njit(cache=True, nogil=True)(_excess_top_kernel)
    _counts_top_compiled = numba.njit(cache=True, nogil=True)(_counts_top_kernel)
    _max_top_compiled = numba.njit(cache=True, nogil=True)(_max_top_kernel)
    _max_compiled = numba.njit(cache=True, nogil=True)(_max_kernel)
    _excess_compiled = numba.njit(cache=True, nogil=True)(_excess_kernel)
    _counts_compiled = numba.njit(cache=True, nogil=True)(_counts_kernel)
