"""The menu search every engine starts from: greedy + swaps, a bound, then VNS if a gap is left."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .. import rows
from .greedy import greedy_menu, pad_menu
from .swap import swap_search
from .vns import vns

__all__ = ["search_menu"]


def search_menu(P: np.ndarray, w: np.ndarray, K: int, rng: np.random.Generator, bounder: Callable, *,
                shakes: int = 200, patience: int = 30, sample_rows: int = 20_000,
                settle_gap: float = 1e-9, deadline: float | None = None) -> tuple[np.ndarray, dict]:
    """Greedy + best-improvement swaps, then ``bounder(menu) -> (menu, value, bound)``, then VNS
    shakes unless the bound is within ``settle_gap`` (relative) of the menu's value.

    Above ``sample_rows`` rows the descent and the shakes run on a seeded row sample and each
    resulting menu is polished by swaps on all rows; values and bounds are always those of all
    rows. ``P`` (n, m), ``w`` (n,) > 0, ``1 <= K < m``. Returns (sorted menu (K,), figures).
    """
    full_P, full_w = P, w
    sampled = P.shape[0] > sample_rows
    if sampled:
        sample = np.sort(rng.choice(P.shape[0], size=sample_rows, replace=False))
        P, w = rows.take(P, sample), w[sample]
    menu, swaps = swap_search(P, w, pad_menu(greedy_menu(P, w, K), K, P.shape[1]), deadline=deadline)
    if sampled:
        menu, polish = swap_search(full_P, full_w, menu, deadline=deadline)
        swaps += polish
    menu, value, target = bounder(menu)
    if value >= target - settle_gap * max(1.0, abs(target)):
        return menu, {"swaps": swaps, "shakes": 0, "shake_improvements": 0}
    shaken, figures = vns(P, w, menu, rng, shakes=shakes, patience=patience,
                          target=np.inf if sampled else target, deadline=deadline)
    figures["swaps"] += swaps
    if sampled:                      # better on the sample is not always better on all rows
        figures.update(sample_rows=sample_rows, polish_swaps=0)
        if deadline is None or time.perf_counter() < deadline:      # the polish's first pass is a full one
            shaken, figures["polish_swaps"] = swap_search(full_P, full_w, shaken, deadline=deadline)
        if rows.menu_value(full_P, full_w, shaken) <= value:
            return menu, figures
    return shaken, figures
