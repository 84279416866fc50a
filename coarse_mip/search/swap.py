"""Swap local search on a :func:`~coarse_mip.kernels.swap_state` (best improvement)."""

from __future__ import annotations

import time

import numpy as np

from ..kernels import CompiledSwapState, SwapState, swap_state
from .greedy import best_single

__all__ = ["local_search", "swap_search"]


def local_search(state: SwapState | CompiledSwapState, *, deadline: float | None = None,
                 max_swaps: int = 100_000) -> int:
    """Best-improvement swaps on ``state`` until none gains; returns the number made.

    A swap is kept only if the exact row-by-row value rises, so float drift in the gain tables
    can end the search early but never lowers the value or cycles.
    """
    tol = 1e-12 * max(1.0, abs(state.value))
    swaps = 0
    while swaps < max_swaps and (deadline is None or time.perf_counter() < deadline):
        r, u, gain = state.best_swap()
        if not gain > tol:
            break
        old, value = int(state.menu[r]), state.value
        state.swap(r, u)
        if not state.value > value:
            state.swap(r, old)           # drift made a non-improving swap look good: undo, stop
            break
        swaps += 1
    return swaps


def swap_search(P: np.ndarray, w: np.ndarray, menu: np.ndarray, *, deadline: float | None = None,
                max_swaps: int = 100_000) -> tuple[np.ndarray, int]:
    """Best-improvement swaps from ``menu`` (k,) until no swap gains (or the deadline passes).

    ``P`` (n, m) float64, ``w`` (n,) > 0 and distinct columns are trusted. Returns (locally
    optimal menu sorted, number of swaps made).
    """
    menu = np.sort(np.asarray(menu, dtype=np.intp))
    if menu.size >= P.shape[1]:
        return menu, 0
    if menu.size == 1:               # a single column: the best one is optimal
        return np.array([best_single(P, w)]), 0
    state = swap_state(P, w, menu)
    swaps = local_search(state, deadline=deadline, max_swaps=max_swaps)
    return np.sort(state.menu), swaps
