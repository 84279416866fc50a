"""Benders separation of the radius model in closed form (formulations/benders.md, B2-B5).

For a master point ``y`` (m,) every row's LP is solved by filling its columns by decreasing
profit up to a total y of 1; its level ``V_i`` gives the cut

    theta_i <= V_i + sum_t (P_it - V_i)^+ y_t                                          (B3)

summed over the rows of a group (B4).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .. import rows

try:
    import numba
except ImportError:                  # pragma: no cover - numba comes with EconML
    numba = None

__all__ = ["SPARSE_CUT_ENTRIES", "TopColumns", "row_groups", "separate"]

#: Group cuts with more entries than this (G m) are built as a CSR matrix: with one cut per row
#: each block's dense (G, m) product and their sum took 57 s of 124 s on rl5934 (p = 1000),
#: while a row's cut is nonzero only on the columns that beat its level.
SPARSE_CUT_ENTRIES = 1 << 22


class TopColumns:
    """Each row's ``L`` best columns by decreasing profit, ties by column index (n, L) unsigned.

    Built on first use, once per matrix: a master point with a wide support is then separated
    by walking these short lists (the paper's sorted distance lists) instead of sorting every
    row's support again at each round. Only for in-memory rows.
    """

    def __init__(self, P: np.ndarray, L: int = 32):
        self.P, self.L = P, min(L, P.shape[1])
        self._lists: np.ndarray | None = None

    def lists(self) -> np.ndarray:
        if self._lists is None:
            self._lists, = rows.map_reduce(self.P, lambda s, b: (_top(b, self.L),), ("concat",))
        return self._lists


def _top(b: np.ndarray, L: int) -> np.ndarray:
    """(b, L) the L best columns of each row of ``b`` in the order of a stable sort by -profit."""
    dtype = np.min_scalar_type(b.shape[1] - 1)
    if _kernels:
        return _top_compiled(b, L).astype(dtype)
    if L < b.shape[1]:
        level = -np.partition(-b, L - 1, axis=1)[:, L - 1:L]         # each row's L-th best value
        above = b > level
        tied = b == level
        # Of the columns tied at the level, the lowest indices, as a stable sort would keep.
        keep = above | (tied & (np.cumsum(tied, axis=1) <= L - above.sum(axis=1, keepdims=True)))
        idx = np.nonzero(keep)[1].reshape(b.shape[0], L)              # ascending in each row
    else:
        idx = np.broadcast_to(np.arange(L), b.shape)
    order = np.argsort(-np.take_along_axis(b, idx, axis=1), axis=1, kind="stable")
    # The smallest integer type that holds a column index: 10^6 x 32 lists take 32 MB at m <= 256.
    return np.take_along_axis(idx, order, axis=1).astype(dtype)


def row_groups(P: np.ndarray, menu: np.ndarray, max_groups: int) -> tuple[np.ndarray, int]:
    """Group rows for aggregated cuts (B4): by best column overall and best column on ``menu``.

    Rows in a group have similar curves, so their summed cut stays close to their separate
    cuts. Groups beyond ``max_groups`` are folded together (by modulo). Returns (ids (n,), G).
    """
    m = P.shape[1]
    key, = rows.map_reduce(P, lambda s, b: (b.argmax(axis=1) * m + menu[b[:, menu].argmax(axis=1)],), ("concat",))
    _, ids = np.unique(key, return_inverse=True)
    ids = ids.ravel() % max_groups
    return ids, int(ids.max()) + 1


def separate(P: np.ndarray, w: np.ndarray, y: np.ndarray, groups: np.ndarray, G: int,
             sums: rows.GroupSums | None = None,
             top: TopColumns | None = None, sparse: bool | None = None,
             deadline: float | None = None) -> tuple | None:
    """Cuts (B3) of every row at the master point ``y`` (m,), summed per group (B4).

    ``sums``: :func:`coarse_mip.rows.group_sums` of (P, w, groups, G), when the caller
    separates repeatedly; ``top``: the rows' sorted lists, walked first when ``y`` has more
    than ``top.L`` positive entries (rows they do not fill are sorted as without them).
    Returns (C (G, m), d (G,), value, V (n,)) with group cut ``theta_g <= d_g + C_g . y`` and
    ``value`` = sum_i w_i f_i(y), the LP value of ``y`` (B5); C is a CSR matrix when
    ``sparse`` (default: above SPARSE_CUT_ENTRIES entries, or one row per group with the
    compiled kernels), else dense. ``deadline``
    (``time.perf_counter()`` seconds, in-memory rows only): None once a block starts past it.
    """
    # Compiled kernels (in-memory rows) build one row per group as CSR rows directly; else a
    # dense (G, m) sum, or numpy's dense (rows, m) excess and a sparse product per block.
    local = _kernels and rows.in_memory(P)
    sparse = (G * P.shape[1] > SPARSE_CUT_ENTRIES or (local and G == P.shape[0])) if sparse is None else sparse
    sums = rows.group_sums(P, w, groups, G) if sums is None else sums
    support = np.flatnonzero(y > 1e-12)
    integral = bool((y[support] >= 1.0 - 1e-9).all())
    lists = top.lists() if top is not None and not integral and support.size > top.L else None
    y_support = np.where(y > 1e-12, y, 0.0)
    # Blocks of other processes (Dask) do not share this clock: only local rows stop early.
    stop = deadline if deadline is not None and rows.in_memory(P) else None

    def block_cuts(s, b):
        if stop is not None and time.perf_counter() > stop:
            raise _PastDeadline
        head = None if lists is None else lists[s]
        if compiled is None:
            V = _block_levels(b, head, support, y_support, integral)
            return rows.weighted_excess(b, V, sums.block(s), out=rows.scratch(*b.shape), sparse=sparse), V
        V = _levels(b, y_support, support, _NO_LIST if head is None else head, integral)
        if sparse:
            compiled.append(_row_cuts(b, V, w[s]))
        else:
            _add_group_cuts(b, V, w[s], groups[s], dense)
        return 0, V

    compiled = [] if local and (not sparse or G == P.shape[0]) else None
    dense = np.zeros((G, P.shape[1])) if compiled is not None and not sparse else None
    try:
        C, V = rows.map_reduce(P, block_cuts, ("sum", "concat"), rows=sums.rows)
    except _PastDeadline:
        return None
    if compiled is None:
        C = C.tocsr() if sparse else np.asarray(C)
    elif sparse:                     # rows in row order, then row g = the row of group g
        C = _stack_rows(compiled, P.shape[1])[np.argsort(groups, kind="stable")]
    else:
        C = dense
    d = np.bincount(groups, weights=w * V, minlength=G)
    return C, d, float(d.sum() + np.asarray(C.sum(axis=0)).ravel() @ y), V


class _PastDeadline(Exception):
    """A separation pass reached its deadline."""


def _block_levels(b: np.ndarray, head: np.ndarray | None, support: np.ndarray, y: np.ndarray,
                  integral: bool) -> np.ndarray:
    """(b,) the rows' levels (B2) at the point ``y`` (m,), zero off ``support``; ``head`` (b, L)
    the rows' sorted lists or None."""
    if integral:                     # the best chosen column alone fills the row
        return b[:, support].max(axis=1)
    if head is None:
        return _fill_level(b, support, y)
    # Zeros off the support leave the running sums of the sort above unchanged, so the level is
    # the same; a row its list does not fill is sorted in full.
    filled = np.cumsum(y[head], axis=1) >= 1.0 - 1e-9
    at = np.argmax(filled, axis=1)
    V = b[np.arange(b.shape[0]), head[np.arange(b.shape[0]), at]]
    short = np.flatnonzero(~filled[:, -1])
    if short.size:
        V[short] = _fill_level(b[short], support, y)
    return V


def _fill_level(b: np.ndarray, support: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(b,) each row's level: its columns by decreasing profit fill a total y of 1 (B2)."""
    sub = b[:, support]
    order = np.argsort(-sub, axis=1, kind="stable")
    filled = np.cumsum(y[support][order], axis=1)
    # sum(y) = K >= 1, so every row fills up; 1e-9 absorbs LP round-off in y.
    at = np.argmax(filled >= 1.0 - 1e-9, axis=1)
    return np.take_along_axis(sub, order[np.arange(sub.shape[0]), at][:, None], axis=1)[:, 0]


def _top_compiled(b, L):
    """:func:`_top` by insertion into a sorted buffer per row: a column scanned later enters only
    by a strictly larger value, so equal values keep the lower column first (a stable sort)."""
    out = np.empty((b.shape[0], L), dtype=np.int64)
    vals = np.empty(L)
    for i in range(b.shape[0]):
        count = 0
        for t in range(b.shape[1]):
            v = b[i, t]
            if count == L and not v > vals[L - 1]:
                continue
            j = min(count, L - 1)                     # shift the worse entries down one place
            while j > 0 and vals[j - 1] < v:
                vals[j], out[i, j] = vals[j - 1], out[i, j - 1]
                j -= 1
            vals[j], out[i, j] = v, t
            count = min(count + 1, L)
    return out


def _levels(b, y, support, head, integral):
    """:func:`_block_levels`, compiled: the same sums in the same order, so the same levels."""
    V = np.empty(b.shape[0])
    for i in range(b.shape[0]):
        if integral:
            v = -np.inf
            for t in support:
                v = max(v, b[i, t])
            V[i] = v
            continue
        acc, filled = 0.0, False
        for j in range(head.shape[1]):
            acc += y[head[i, j]]
            if acc >= 1.0 - 1e-9:
                V[i], filled = b[i, head[i, j]], True
                break
        if filled:
            continue
        order = np.argsort(-b[i][support], kind="mergesort")          # stable: ties by column
        acc = 0.0
        for j in order:
            acc += y[support[j]]
            if acc >= 1.0 - 1e-9:
                V[i] = b[i, support[j]]
                break
    return V


_NO_LIST = np.empty((0, 0), dtype=np.int64)


def _add_group_cuts(b, V, w, g, C):
    """C[g_i] += w_i (b_i - V_i)^+ for each row i of the block (B3, B4), in place."""
    for i in range(b.shape[0]):
        level, wi, row = V[i], w[i], g[i]
        for t in range(b.shape[1]):
            if b[i, t] > level:
                C[row, t] += wi * (b[i, t] - level)


def _row_cuts(b, V, w):
    """CSR pieces (counts (b,), columns, values) of w_i (b_i - V_i)^+, one row per row (B3)."""
    counts = np.zeros(b.shape[0], dtype=np.int64)
    for i in range(b.shape[0]):
        for t in range(b.shape[1]):
            if b[i, t] > V[i]:
                counts[i] += 1
    cols = np.empty(counts.sum(), dtype=np.int32)
    vals = np.empty(counts.sum())
    j = 0
    for i in range(b.shape[0]):
        for t in range(b.shape[1]):
            if b[i, t] > V[i]:
                cols[j], vals[j] = t, w[i] * (b[i, t] - V[i])
                j += 1
    return counts, cols, vals


def _stack_rows(pieces: list, m: int) -> sp.csr_matrix:
    counts = np.concatenate([p[0] for p in pieces])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_matrix((np.concatenate([p[2] for p in pieces]), np.concatenate([p[1] for p in pieces]), indptr),
                         shape=(counts.size, m))


_kernels = numba is not None
if _kernels:
    _top_compiled = numba.njit(cache=True)(_top_compiled)
    _levels = numba.njit(cache=True)(_levels)
    _add_group_cuts = numba.njit(cache=True)(_add_group_cuts)
    _row_cuts = numba.njit(cache=True)(_row_cuts)
