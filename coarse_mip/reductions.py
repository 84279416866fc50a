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
import pandas as pd

from . import rows
from .problem import Problem

__all__ = ["Reduced", "reduce_problem", "dominated_columns", "first_occurrence", "identical_rows", "worth_merging"]

logger = logging.getLogger(__name__)

#: Rows used to screen column pairs before the exact check on all rows.
_SCREEN_ROWS = 512
#: Columns whose values alone often tell every row apart (identical_rows' first check).
_SCREEN_COLUMNS = 8


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
    """Apply the exact reductions of this module. Cost O(n m) + O(m^2 * screen)."""
    P, w = problem.profits, problem.weights
    keep = w > 0
    if not keep.all():
        P, w = P[keep], w[keep]
    columns = np.arange(problem.m)
    if drop_dominated and P.shape[1] > 1:
        alive = ~dominated_columns(P)
        if not alive.all():
            P, columns = P[:, alive], columns[alive]
    if merge_rows and P.shape[0] > 1 and worth_merging(P):
        first, inverse = identical_rows(P)
        if first.size < P.shape[0]:      # a copy only when rows did merge
            P, w = P[first], np.bincount(inverse, weights=w, minlength=first.size)
    return Reduced(np.ascontiguousarray(P), w, columns)


def worth_merging(P: np.ndarray, probe: int = 20_000) -> bool:
    """Merging is only an optimization: above ``5 * probe`` rows it runs only if a seeded sample
    of ``probe`` rows holds a repeated row (a sample of s of n rows sees about s^2 / n of the
    repeats of paired rows, so a miss means few repeats; at 10^6 rows the merge pass costs 1.7 s)."""
    n = P.shape[0]
    if n <= 5 * probe:
        return True
    sample = rows.take(P, np.sort(np.random.default_rng(0).choice(n, size=probe, replace=False)))
    return identical_rows(sample)[0].size < probe


def identical_rows(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal rows of ``P`` (n, m): (first (g,) row of each group, inverse (n,) group ids).

    Rows are hashed (a random linear map of their bit patterns, mod 2**64), then every row is
    compared with its group's first row, so a hash collision is caught, never trusted; on a
    collision the sort-based ``np.unique`` decides. O(n m), against O(n m log n) for sorting.
    In memory, a few spread columns are hashed first: rows distinct there are distinct.
    """
    mult = np.random.default_rng(0x5EED).integers(1, 2**63, size=P.shape[1], dtype=np.uint64) | np.uint64(1)
    if rows.in_memory(P):
        P = np.ascontiguousarray(P, dtype=np.float64)
        # Equal rows agree on any columns: when a few spread columns already tell every row
        # apart, no row repeats (distance matrices: rl1304's full pass cost 0.13 s).
        few = np.unique(np.linspace(0, P.shape[1] - 1, _SCREEN_COLUMNS).astype(np.int64))
        if pd.unique(_row_hash(P[:, few], mult[few])).size == P.shape[0]:
            return np.arange(P.shape[0]), np.arange(P.shape[0])
    h, = rows.map_reduce(P, lambda s, b: (_row_hash(b, mult),), ("concat",))
    inverse, _ = pd.factorize(h)
    first = first_occurrence(inverse)
    firsts = rows.take(P, first)
    mismatched, = rows.map_reduce(P, lambda s, b: (int((b != firsts[inverse[s]]).any()),))
    if not mismatched:
        return first, inverse
    logger.warning("row hash collision: merging identical rows by sorting instead")
    _, first, inverse = np.unique(P, axis=0, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def dominated_columns(P: np.ndarray) -> np.ndarray:
    """Boolean mask (m,) of columns dominated by another column on every row of ``P`` (n, m).

    Column t is dominated by u != t when ``P[:, t] <= P[:, u]`` everywhere and either some
    entry is strictly smaller or ``u < t`` (so one of identical columns survives). Pairs are
    screened on a few rows, then confirmed on all rows.
    """
    n, m = P.shape
    # cand[t, u]: t <= u on the rows screened so far, 8 rows at a time (8 m^2 comparisons) while
    # more than 64 m pairs survive (pcb3038: screening 512 rows at once took 31 s).
    # Screening rows are a seeded sample: neighbouring rows (points listed in order) screen alike.
    cand = np.ones((m, m), dtype=bool)
    np.fill_diagonal(cand, False)
    screen = np.random.default_rng(0).permutation(n)[:_SCREEN_ROWS]
    # The peak screen reads all n m entries, a block 8 m^2 comparisons: peaks first when cheaper.
    peaks_first = n <= 8 * m
    if peaks_first:
        _screen_at_peaks(P, cand)
    for start in range(0, screen.size, 8):
        if np.count_nonzero(cand) <= 64 * m:
            break
        if start == 8 and not peaks_first:
            _screen_at_peaks(P, cand)
        block = rows.take(P, np.sort(screen[start:start + 8]))
        cand &= (block[:, :, None] <= block[:, None, :]).all(axis=0)
    t, u = np.nonzero(cand)
    strict = np.zeros(t.size, dtype=bool)
    # Confirm all candidate pairs together, block by block; most fail in the first blocks,
    # so blocks grow as pairs drop (two gathers of the pairs' columns per block).
    start = 0
    while start < n and t.size:
        size = max(256, rows.block_rows(16 * t.size))
        block = P[start:start + size]
        start += size
        ok = (block[:, t] <= block[:, u]).all(axis=0)
        strict = (strict | (block[:, t] < block[:, u]).any(axis=0))[ok]
        t, u = t[ok], u[ok]
    # The relation is a strict partial order (transitive with the index tie-break), so every
    # dominated column has an undominated dominator and dropping all of them is exact.
    dominated = np.zeros(m, dtype=bool)
    dominated[t[strict | (u < t)]] = True
    return dominated


def _screen_at_peaks(P: np.ndarray, cand: np.ndarray) -> None:
    """``cand[t, u] &= P[r_t, t] <= P[r_t, u]`` on the row r_t where column t peaks (m^2 comparisons).

    Used when sampled rows leave many pairs: on a distance matrix every column peaks on its own
    row, which no other column matches but a duplicate, while sampled rows keep many centre /
    periphery pairs (usa13509: 21.5 s of screening before this, 11.5 s with it). First only when
    n <= 8 m: on tall matrices the column argmax costs more than the sampled rows (10^6 x 101: 1.2 s).
    """
    m = P.shape[1]
    peak = P.argmax(axis=0)
    for c in rows.row_blocks(m, rows.block_rows(9 * m)):
        W = P[peak[c]]                                     # row c of W: where column c peaks
        cand[c] &= W >= W[np.arange(W.shape[0]), np.arange(m)[c]][:, None]


def first_occurrence(code: np.ndarray) -> np.ndarray:
    """Index of the first occurrence of each code, for codes numbered by first appearance
    (as ``pandas.factorize`` numbers them): an entry opens a code iff it exceeds all before it."""
    new = np.empty(code.size, dtype=bool)
    new[0] = True
    new[1:] = code[1:] > np.maximum.accumulate(code)[:-1]
    return np.flatnonzero(new)


def _row_hash(b: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """(b,) hashes of the rows of ``b`` (b, c) float64: equal rows hash alike."""
    return (_mix(b.view(np.uint64)) * mult).sum(axis=1)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, elementwise: spreads the (often all-zero) low mantissa bits."""
    x = x ^ (x >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True, eq=False)
class Grouped:
    """A constrained instance with identical individuals merged (formulations/constrained.md, C-Red).

    Individuals are identical when their profits, weight, usage, cost row and eligibility row
    all agree; a group of ``counts[g]`` of them may then be split across treatments in integer
    numbers without loss (members are interchangeable). Forbidden treatments (and those whose
    min load exceeds their max load) are dropped; every other column array is in the order of
    ``columns`` (original ids).

    P (G, k), w (G,) weight of one member, counts (G,), usage (G,) of one member, cost (G, k)
    or None, eligible (G, k) bool or None; lo, hi, fixed (k,), required (k,) bool, budget,
    K; inverse (n,): the group of each original row.
    """

    P: np.ndarray
    w: np.ndarray
    counts: np.ndarray
    usage: np.ndarray
    cost: np.ndarray | None
    eligible: np.ndarray | None
    lo: np.ndarray
    hi: np.ndarray
    fixed: np.ndarray
    required: np.ndarray
    budget: float | None
    K: int
    columns: np.ndarray
    inverse: np.ndarray

    @property
    def G(self) -> int:
        return self.P.shape[0]

    @property
    def k(self) -> int:
        return self.P.shape[1]

    @property
    def coupled(self) -> bool:
        return bool(np.isfinite(self.hi).any() or (self.lo > 0).any() or self.budget is not None)

    @property
    def monotone(self) -> bool:
        """Adding a treatment never lowers the best value (no min loads, no fixed costs)."""
        return not ((self.lo > 0).any() or (self.fixed > 0).any())

    def stats(self, problem: Problem) -> dict:
        return {"rows_in": problem.n, "rows_reduced": self.G, "cols_in": problem.m, "cols_reduced": self.k}

    def expand(self, slots: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Each original row's column (n,) from integer counts ``x`` (G, len(slots)) of the groups
        on the menu ``slots`` (columns of this instance): a group's members, in row order,
        fill its slots in order."""
        order = np.argsort(self.inverse, kind="stable")          # rows group by group
        per = np.round(x).astype(np.int64)
        slot_of = np.repeat(np.tile(np.arange(len(slots)), self.G), per.ravel())
        out = np.empty(self.inverse.size, dtype=np.intp)
        out[order] = self.columns[np.asarray(slots)[slot_of]]
        return out


def group_individuals(problem: Problem, side) -> Grouped:
    """Merge identical individuals and drop the columns that may not be offered; O(n m).

    Dominated columns are kept (under capacities a dominated column may still serve the
    individuals its dominator has no room for) and no row is dropped: a zero-weight
    individual still needs an eligible treatment and may use capacity.
    """
    keep = np.flatnonzero(~side.forbidden)
    P = problem.profits[:, keep]
    cost = side.cost
    cost2d = cost is not None and cost.ndim == 2
    eligible = None if side.eligible is None else side.eligible[:, keep]
    parts = [P, problem.weights[:, None], side.usage[:, None]]
    if cost2d:
        parts.append(cost[:, keep])
    if eligible is not None:
        parts.append(eligible.astype(np.float64))
    first, inverse = identical_rows(np.hstack(parts))
    counts = np.bincount(inverse, minlength=first.size).astype(np.float64)
    return Grouped(
        P=np.ascontiguousarray(P[first]), w=problem.weights[first], counts=counts, usage=side.usage[first],
        cost=None if cost is None else (cost[first][:, keep] if cost2d else np.broadcast_to(cost[keep], (first.size,
                                                                                                         keep.size))),
        eligible=None if eligible is None else eligible[first], lo=side.lo[keep], hi=side.hi[keep],
        fixed=side.fixed[keep], required=side.required[keep], budget=side.budget, K=side.K, columns=keep,
        inverse=inverse)
