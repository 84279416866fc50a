"""Benders separation of the radius model in closed form (formulations/benders.md, B2-B5).

For a master point ``y`` (m,) every row's LP is solved by filling its columns by decreasing
profit up to a total y of 1; its level ``V_i`` gives the cut

    theta_i <= V_i + sum_t (P_it - V_i)^+ y_t                                          (B3)

summed over the rows of a group (B4).
"""

from __future__ import annotations

import time

import numpy as np

from .. import rows

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
    return np.take_along_axis(idx, order, axis=1).astype(np.min_scalar_type(b.shape[1] - 1))


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
    ``sparse`` (default: above SPARSE_CUT_ENTRIES entries), else dense. ``deadline``
    (``time.perf_counter()`` seconds, in-memory rows only): None once a block starts past it.
    """
    sparse = G * P.shape[1] > SPARSE_CUT_ENTRIES if sparse is None else sparse
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
        if integral:                 # the best chosen column alone fills the row
            V = b[:, support].max(axis=1)
        elif lists is None:
            V = _fill_level(b, support, y_support)
        else:
            # Zeros off the support leave the running sums of the sort above unchanged, so the
            # level is the same; a row its list does not fill is sorted in full.
            head = lists[s]
            filled = np.cumsum(y_support[head], axis=1) >= 1.0 - 1e-9
            at = np.argmax(filled, axis=1)
            V = b[np.arange(b.shape[0]), head[np.arange(b.shape[0]), at]]
            short = np.flatnonzero(~filled[:, -1])
            if short.size:
                V[short] = _fill_level(b[short], support, y_support)
        return rows.weighted_excess(b, V, sums.block(s), out=rows.scratch(*b.shape), sparse=sparse), V

    try:
        C, V = rows.map_reduce(P, block_cuts, ("sum", "concat"), rows=sums.rows)
    except _PastDeadline:
        return None
    C = C.tocsr() if sparse else np.asarray(C)
    d = np.bincount(groups, weights=w * V, minlength=G)
    return C, d, float(d.sum() + np.asarray(C.sum(axis=0)).ravel() @ y), V


class _PastDeadline(Exception):
    """A separation pass reached its deadline."""


def _fill_level(b: np.ndarray, support: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(b,) each row's level: its columns by decreasing profit fill a total y of 1 (B2)."""
    sub = b[:, support]
    order = np.argsort(-sub, axis=1, kind="stable")
    filled = np.cumsum(y[support][order], axis=1)
    # sum(y) = K >= 1, so every row fills up; 1e-9 absorbs LP round-off in y.
    at = np.argmax(filled >= 1.0 - 1e-9, axis=1)
    return np.take_along_axis(sub, order[np.arange(sub.shape[0]), at][:, None], axis=1)[:, 0]
