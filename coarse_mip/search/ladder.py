"""The exact dynamic program over consecutive menu items for single-peaked rows
(formulations/ladder.md, D7-D8)."""

from __future__ import annotations

import numpy as np

from ..kernels.ladder import LadderTables

__all__ = ["ladder_menu"]


def ladder_menu(tables: LadderTables, K: int) -> tuple[np.ndarray, float]:
    """The best menu of at most ``K`` columns and its value V(D) (D3), from the tables of
    :func:`~coarse_mip.kernels.ladder.ladder_tables`. O(K m^2)."""
    m = tables.left.size
    K = min(K, m)
    below = np.tril(np.ones((m, m), dtype=bool))        # a >= b: not a consecutive pair
    pairs = np.where(below, -np.inf, tables.pairs)
    F = np.empty((K, m))
    back = np.zeros((K, m), dtype=np.int64)
    F[0] = tables.left                                   # (D7) one item
    for k in range(1, K):
        cand = F[k - 1][:, None] + pairs                 # (a, b)
        back[k] = np.argmax(cand, axis=0)
        F[k] = cand[back[k], np.arange(m)]
    total = F + tables.right[None, :]                    # (D8)
    k, b = np.unravel_index(np.argmax(total), total.shape)
    value = float(total[k, b])
    menu = [int(b)]
    for j in range(k, 0, -1):
        b = back[j, b]
        menu.append(int(b))
    return np.array(menu[::-1], dtype=np.int64), value
