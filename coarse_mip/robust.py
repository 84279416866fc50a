"""Menus that hold up under Stage I uncertainty: scenarios of the profit matrix, their stacked problem, stability.

Stage I is uncertain; refitting it on B bootstrap resamples gives B profit matrices of the
same individuals (scenarios). They are centred on the point estimate (each refit keeps its
deviation from the mean of the refits, added to the full-data fit): the refits estimate the
*spread* of Stage I, while their mean carries the resampling's own bias (a model fitted on a
bootstrap sample, with about 63 % of the distinct rows, is not centred on the full-data fit).
The menu with the best *expected* estimated profit over them is
the ordinary problem on the B copies of the rows stacked with weights ``w / B`` (the engines
merge and weight rows already), so every engine and certificate applies unchanged. Beside it,
how stable the choice is: how often each treatment enters the scenarios' own menus, their
mean pairwise Jaccard similarity, and the chosen menu's share of each scenario's full
personalization.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

__all__ = ["center_scenarios", "stack_scenarios", "menu_stability", "scenario_shares"]


def center_scenarios(scenarios: list[np.ndarray], point: np.ndarray) -> list[np.ndarray]:
    """Each scenario (n, m) moved by the same matrix so that their mean is ``point`` (n, m)."""
    shift = np.asarray(point, dtype=float) - sum(scenarios) / len(scenarios)
    return [P + shift for P in scenarios]


def stack_scenarios(scenarios: list[np.ndarray], weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The B scenarios (each (n, m)) as one problem: rows stacked (B n, m), weights ``w / B`` (B n,)."""
    B = len(scenarios)
    if B == 0:
        raise ValueError("stack_scenarios needs at least one scenario")
    n = scenarios[0].shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    return np.vstack(scenarios), np.tile(w / B, B)


def menu_stability(menus: list, universe) -> dict:
    """How stable a menu choice is across scenarios.

    Parameters
    ----------
    menus : list of sequences
        Each scenario's own menu (treatment labels or indices).
    universe : sequence
        Every treatment, in the order the frequencies are reported.

    Returns
    -------
    dict
        ``frequency``: {treatment: share of the scenarios whose menu holds it};
        ``jaccard``: mean Jaccard similarity over pairs of scenario menus (1: always the same).
    """
    sets = [set(m) for m in menus]
    frequency = {t: float(np.mean([t in s for s in sets])) for t in universe}
    pairs = [len(a & b) / len(a | b) for a, b in combinations(sets, 2)]
    return {"frequency": frequency, "jaccard": float(np.mean(pairs)) if pairs else 1.0}


def scenario_shares(scenarios: list[np.ndarray], menu, weights: np.ndarray | None = None) -> np.ndarray:
    """The menu's share of full personalization under each scenario (every row at its best offered
    column), shape (B,)."""
    cols = np.asarray(menu, dtype=np.intp)
    w = np.ones(scenarios[0].shape[0]) if weights is None else np.asarray(weights, dtype=float)
    out = []
    for P in scenarios:
        full = w @ P.max(axis=1)
        out.append(w @ P[:, cols].max(axis=1) / full if full > 0 else np.nan)
    return np.asarray(out)
