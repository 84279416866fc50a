"""The paper's Lloyd-style alternating algorithm (Zhang & Misra, Stage II).

Assign each individual to its best chosen treatment; move each chosen treatment to the single
candidate that maximizes its segment's total profit; repeat until the menu stops changing.
Starts are k-means++-like over the candidates; the best of several restarts is kept.
"""

from __future__ import annotations

import numpy as np

from .. import rows
from .greedy import greedy_menu

__all__ = ["lloyd_menu", "plusplus_start"]


def plusplus_start(P: np.ndarray, w: np.ndarray, K: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++-like start: each next column drawn with probability proportional to its gain.

    The first column is drawn with probability proportional to its total value above the
    worst column; each next one proportional to ``sum_i w_i (P_it - best_i)^+`` (the analogue
    of D^2 sampling), uniformly among the unused columns when no column gains.
    """
    n, m = P.shape
    total = rows.column_totals(P, w)
    first = _draw(total - total.min(), rng, np.ones(m, dtype=bool))
    menu = [first]
    best = P[:, first].copy()
    free = np.ones(m, dtype=bool)
    free[first] = False
    for _ in range(1, min(K, m)):
        gain = rows.excess(P, best, w)
        t = _draw(gain, rng, free)
        menu.append(t)
        free[t] = False
        np.maximum(best, P[:, t], out=best)
    return np.sort(np.asarray(menu, dtype=np.intp))


def _draw(score: np.ndarray, rng: np.random.Generator, free: np.ndarray) -> int:
    p = np.where(free, np.maximum(score, 0.0), 0.0)
    if not p.sum() > 0:
        p = free.astype(np.float64)
    return int(rng.choice(p.size, p=p / p.sum()))


def lloyd_menu(P: np.ndarray, w: np.ndarray, K: int, *, rng: np.random.Generator,
               restarts: int = 10, max_iter: int = 100, start: np.ndarray | None = None
               ) -> tuple[np.ndarray, dict]:
    """Best menu of ``restarts`` Lloyd runs on profits ``P`` (n, m), weights ``w`` (n,).

    Each iteration costs one sparse (K x n) @ (n x m) product. When two segments move to the
    same column the menu is refilled greedily (while a column still gains), so the objective
    never decreases. ``start``, if given, replaces the first random start. Returns (menu, figures).
    """
    n, m = P.shape
    k = min(K, m)
    best_menu, best_value, iters = None, -np.inf, []
    for r in range(restarts):
        menu = start if (r == 0 and start is not None) else plusplus_start(P, w, k, rng)
        menu, value, it = _lloyd_run(P, w, k, np.sort(menu), max_iter)
        iters.append(it)
        if value > best_value:
            best_menu, best_value = menu, value
    return best_menu, {"restarts": restarts, "iterations": iters}


def _lloyd_run(P, w, k, menu, max_iter):
    for it in range(1, max_iter + 1):
        seg = np.searchsorted(menu, rows.assign(P, menu))                  # assignment step
        S = rows.segment_totals(P, w, seg, menu.size)                      # (k, m) segment totals
        moved = np.unique(np.argmax(S, axis=1))                            # relocation step
        moved = greedy_menu(P, w, k, start=moved)     # segments that merged free a slot
        if np.array_equal(moved, menu):
            break
        menu = moved
    return menu, rows.menu_value(P, w, menu), it

