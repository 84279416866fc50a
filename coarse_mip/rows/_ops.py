"""The operations of the row-pass layer, written once over a backend's blocks."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._backend import GroupSums, backend, block_rows

__all__ = ["assign", "best_on", "column_totals", "excess", "group_sums", "in_memory", "map_reduce", "menu_value",
           "row_max", "segment_totals", "take", "top_two", "weighted_excess"]


def _rows(P, bytes_per_row: int | None = None) -> int:
    return block_rows(8 * P.shape[1] if bytes_per_row is None else bytes_per_row)


def map_reduce(P, fn, reducers: tuple = ("sum",), *, rows: int | None = None, bytes_per_row: int | None = None):
    """``fn(slice, block) -> tuple`` over the row blocks of ``P``, each output combined by its reducer
    ("sum" or "concat"). Blocks hold ``rows`` rows (default: the layer's rule for
    ``bytes_per_row``, 8 m by default)."""
    rows = _rows(P, bytes_per_row) if rows is None else rows
    return backend(P).map_reduce(P, fn, tuple(reducers), rows)


def in_memory(P) -> bool:
    """Whether the rows of ``P`` can be indexed at random at no cost (else: passes only)."""
    return backend(P).in_memory


def take(P, index: np.ndarray) -> np.ndarray:
    """Rows ``index`` (sorted) of ``P`` as an in-memory float64 array (len(index), m)."""
    return backend(P).take(P, np.asarray(index, dtype=np.intp))


def weighted_excess(block: np.ndarray, level: np.ndarray, weights, out: np.ndarray | None = None,
                    sparse: bool = False):
    """``weights @ (block - level[:, None])^+`` for one in-memory block (b, m).

    ``weights`` is (b,) (result (m,)) or a sparse (G, b) matrix that sums rows into groups
    (result (G, m), a CSR matrix with ``sparse``); ``out`` (b, m) is an optional scratch buffer.
    """
    ex = np.subtract(block, level[:, None], out=out)
    np.maximum(ex, 0.0, out=ex)
    return weights @ sp.csr_matrix(ex) if sparse else weights @ ex


def excess(P, level: np.ndarray, weights) -> np.ndarray:
    """``sum_i weights_i (P_it - level_i)^+`` for every column t over all rows: shape (m,).

    ``weights`` (n,), or a :class:`GroupSums` for one sum per group: shape (G, m).
    """
    if isinstance(weights, GroupSums):
        return map_reduce(P, lambda s, b: (weighted_excess(b, level[s], weights.block(s)),), rows=weights.rows)[0]
    return map_reduce(P, lambda s, b: (weighted_excess(b, level[s], weights[s]),))[0]


def group_sums(P, w: np.ndarray, groups: np.ndarray, G: int) -> GroupSums:
    """Per-block matrices that sum rows of ``P`` weighted by ``w`` into ``groups`` (n,) of ``G``."""
    return GroupSums.build(w, groups, G, _rows(P))


def segment_totals(P, w: np.ndarray, segment: np.ndarray, k: int) -> np.ndarray:
    """``sum_{i in segment s} w_i P[i, :]`` for every segment ``s`` of ``segment`` (n,) in 0..k-1: (k, m)."""
    def block(s, b):
        return (sp.csr_matrix((w[s], (segment[s], np.arange(b.shape[0]))), shape=(k, b.shape[0])) @ b,)

    return map_reduce(P, block)[0]


def column_totals(P, w: np.ndarray) -> np.ndarray:
    """``w @ P``: the weighted total of every column, shape (m,)."""
    return map_reduce(P, lambda s, b: (w[s] @ b,))[0]


def best_on(P, menu: np.ndarray) -> np.ndarray:
    """Each row's best value on ``menu``: ``max_{t in menu} P[i, t]``, shape (n,)."""
    menu = np.asarray(menu, dtype=np.intp)
    return map_reduce(P, lambda s, b: (b[:, menu].max(axis=1),), ("concat",))[0]


def assign(P, menu: np.ndarray, *, lazy: bool = False):
    """Each row's best column on ``menu``, ties to the lowest column index: shape (n,).

    ``lazy``: in the backend's own storage (a Dask array for Dask rows), computed when read."""
    menu = np.sort(np.asarray(menu, dtype=np.intp))

    def best(b):
        return menu[np.argmax(b[:, menu], axis=1)]

    if lazy:
        return backend(P).map_rows(P, best, np.intp)
    return map_reduce(P, lambda s, b: (best(b),), ("concat",))[0]


def menu_value(P, w: np.ndarray, menu: np.ndarray) -> float:
    """``sum_i w_i max_{t in menu} P[i, t]``."""
    menu = np.asarray(menu, dtype=np.intp)
    return float(map_reduce(P, lambda s, b: (w[s] @ b[:, menu].max(axis=1),))[0])


def row_max(P) -> np.ndarray:
    """``max_t P[i, t]`` for every row, shape (n,)."""
    return map_reduce(P, lambda s, b: (b.max(axis=1),), ("concat",))[0]


def top_two(sub: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Best and second-best entry of each row of one in-memory block (b, k), k >= 2.

    Returns (c1, b1, c2, b2): positions and values, ``b1 >= b2``; of two equal entries the one
    ``argpartition`` lists first is ``c1``.
    """
    top2 = np.argpartition(-sub, 1, axis=1)[:, :2]
    idx = np.arange(sub.shape[0])
    v0, v1 = sub[idx, top2[:, 0]], sub[idx, top2[:, 1]]
    # argpartition does not promise which of two equal-rank entries comes first.
    flip = v1 > v0
    return (np.where(flip, top2[:, 1], top2[:, 0]), np.maximum(v0, v1),
            np.where(flip, top2[:, 0], top2[:, 1]), np.minimum(v0, v1))
