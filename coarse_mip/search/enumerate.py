"""Exhaustive enumeration of all menus: the ground truth of the tests.

Deliberately independent of every reduction and formulation: it scores each of the
C(m, k) menus (k = min(K, m)) directly on the raw data, vectorized in blocks of menus.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .. import rows

__all__ = ["enumerate_menus", "MAX_WORK"]

#: Largest ``C(m, k) * n * k`` (entries touched) that enumeration accepts.
MAX_WORK = 2 * 10**9


def enumerate_menus(P: np.ndarray, w: np.ndarray, K: int, *, max_work: int = MAX_WORK) -> tuple[np.ndarray, float]:
    """Best menu of ``min(K, m)`` columns of ``P`` (n, m) by exhaustive search.

    Returns ``(menu, value)``; ties go to the lexicographically first menu.

    Raises
    ------
    ValueError
        If ``C(m, k) * n * k`` exceeds ``max_work``.
    """
    n, m = P.shape
    k = min(K, m)
    count = math.comb(m, k)
    work = count * n * k
    if work > max_work:
        raise ValueError(
            f"enumeration too large: C({m}, {k}) = {count} menus x {n} rows x {k} = {work:.3g} "
            f"entries > limit {max_work:.3g}; use method='exact'")
    block = rows.block_rows(8 * n * k)            # menus per block: (n, block, k) float64 gathers
    combos = itertools.combinations(range(m), k)
    best_value, best_menu = -np.inf, None
    while True:
        chunk = np.array(list(itertools.islice(combos, block)), dtype=np.intp)
        if chunk.size == 0:
            break
        values = w @ P[:, chunk].max(axis=2)  # (n, B, k) -> (n, B) -> (B,)
        j = int(np.argmax(values))
        if values[j] > best_value:
            best_value, best_menu = float(values[j]), chunk[j]
    return best_menu, best_value
