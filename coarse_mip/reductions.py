"""Exact reductions of a problem that keep the optimal value (formulations/README.md §R).

* zero-weight rows are dropped (they add nothing to any menu's value);
* identical rows are merged, their weights summed;
* dominated columns are dropped: if ``P[:, t] <= P[:, u]`` on every row, any menu holding
  ``t`` is matched by the same menu with ``u`` in its place (for identical columns the lowest
  index is kept).

The reduced problem has the same optimal value as the original for every K; a menu of
reduced columns maps back through ``columns``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .problem import Problem

__all__ = ["Reduced", "reduce_problem", "dominated_columns"]

logger = logging.getLogger(__name__)

#: Rows used to screen column pairs before the exact check on all rows.
_SCREEN_ROWS = 512


@dataclass(frozen=True)
class Reduced:
    """A reduced instance: ``profits`` (n', m'), ``weights`` (n',), ``columns`` (m',) original ids."""

    profits: np.ndarray
    weights: np.ndarray
    columns: np.ndarray

    def stats(self, problem: Problem) -> dict:
        return {"rows_in": problem.n, "rows_reduced": int(self.profits.shape[0]),
                "cols_in": problem.m, "cols_reduced": int(self.profits.shape[1])}


def reduce_problem(problem: Problem, *, merge_rows: bool = True, drop_dominated: bool = True) -> Reduced:
    """Apply the exact reductions of this module. Cost O(n m log n) + O(m^2 * screen)."""
    P, w = problem.profits, problem.weights
    keep = w > 0
    if not keep.all():
        P, w = P[keep], w[keep]
    columns = np.arange(problem.m)
    if drop_dominated and P.shape[1] > 1:
        alive = ~dominated_columns(P)
        P, columns = P[:, alive], columns[alive]
    if merge_rows and P.shape[0] > 1:
        P, inverse = np.unique(P, axis=0, return_inverse=True)
        w = np.bincount(inverse.ravel(), weights=w, minlength=P.shape[0])
    return Reduced(np.ascontiguousarray(P), w, columns)


def dominated_columns(P: np.ndarray) -> np.ndarray:
    """Boolean mask (m,) of columns dominated by another column on every row of ``P`` (n, m).

    Column t is dominated by u != t when ``P[:, t] <= P[:, u]`` everywhere and either some
    entry is strictly smaller or ``u < t`` (so one of identical columns survives). Pairs are
    screened on a few rows, then confirmed on all rows.
    """
    n, m = P.shape
    screen = P[: min(n, _SCREEN_ROWS)]
    # cand[t, u]: t <= u on the screening rows.
    cand = np.ones((m, m), dtype=bool)
    for start in range(0, screen.shape[0], 64):
        block = screen[start:start + 64]
        cand &= (block[:, :, None] <= block[:, None, :]).all(axis=0)
    np.fill_diagonal(cand, False)
    dominated = np.zeros(m, dtype=bool)
    # The relation is a strict partial order (transitive with the index tie-break), so every
    # dominated column has an undominated dominator and dropping all of them is exact.
    for t, u in zip(*np.nonzero(cand)):
        if not dominated[t] and (P[:, t] <= P[:, u]).all() and (u < t or (P[:, t] < P[:, u]).any()):
            dominated[t] = True
    return dominated
