"""Variable neighbourhood search around swap local search (Hansen & Mladenovic 1997).

Shake: replace ``depth`` random menu columns by random outside columns; descend with
best-improvement swaps; keep the result if it is better (and go back to depth 1), otherwise
return to the incumbent and shake deeper, up to ``max_depth``.
"""

from __future__ import annotations

import time

import numpy as np

from ..kernels import swap_state
from .swap import local_search

__all__ = ["vns"]


def vns(P: np.ndarray, w: np.ndarray, menu: np.ndarray, rng: np.random.Generator, *,
        shakes: int, patience: int | None = None, max_depth: int = 10, target: float = np.inf,
        deadline: float | None = None) -> tuple[np.ndarray, dict]:
    """Improve ``menu`` (k,) with 2 <= k < m on profits ``P`` (n, m), weights ``w`` (n,).

    Stops after ``shakes`` shakes, after ``patience`` shakes in a row without improvement, at
    ``deadline``, or once the value reaches ``target`` (an upper bound: the incumbent is then
    proven optimal). Returns (sorted menu, figures).
    """
    m = P.shape[1]
    if not 2 <= menu.size < m:       # one column or all of them: swaps have nothing to do
        return np.sort(menu), {"swaps": 0, "shakes": 0, "shake_improvements": 0}
    state = swap_state(P, w, menu)
    swaps = local_search(state, deadline=deadline)
    k = state.menu.size
    max_depth = max(1, min(max_depth, k, m - k))
    tol = 1e-12 * max(1.0, abs(state.value))
    patience = shakes if patience is None else patience
    depth, improved, done, idle = 1, 0, 0, 0
    for done in range(shakes):
        if state.value >= target - 1e-9 * max(1.0, abs(target)) or idle >= patience:
            break
        if deadline is not None and time.perf_counter() >= deadline:
            break
        incumbent = state.snapshot()
        slots = rng.choice(k, size=depth, replace=False)
        outside = np.setdiff1d(np.arange(m), state.menu)
        for r, u in zip(slots, rng.choice(outside, size=depth, replace=False), strict=True):
            state.swap(int(r), int(u))
        swaps += local_search(state, deadline=deadline)
        if state.value > incumbent[-1] + tol:
            depth, improved, idle = 1, improved + 1, 0
        else:
            state.restore(incumbent)
            depth, idle = depth % max_depth + 1, idle + 1
    else:
        done = shakes
    # Rebuild the tables from scratch (no accumulated float drift) and finish the descent.
    state = swap_state(P, w, state.menu)
    swaps += local_search(state, deadline=deadline)
    return np.sort(state.menu), {"swaps": swaps, "shakes": done, "shake_improvements": improved}
