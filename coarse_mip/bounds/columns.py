"""The knapsack Lagrangian dual solved exactly, by column generation (formulations/constrained.md, L7).

The Dantzig-Wolfe master over knapsack patterns: a pattern (t, z) gives treatment t the
members z (G,) of a feasible knapsack (L1) of t; lambda_tz >= 0 says how much of it is used.

    max  sum_{t,z} (sum_g w_g P_gt z_g - f_t) lambda_tz
    s.t. sum_{t,z} z_g lambda_tz = N_g                 every group              (duals pi_g)
         sum_z lambda_tz <= 1   (= 1 if t is forced in, 0 if forced out)        (sigma_t)
         sum_{t,z} lambda_tz <= K                                               (tau)
         sum_{t,z} spend_tz lambda_tz <= budget                                 (beta)

Its LP value is the best (L2) over all multipliers; its row duals are the multipliers (pi, beta)
of (L1). Pricing a treatment is its knapsack at those duals; a pattern with positive reduced
cost ``KP_t - f_t - sigma_t - tau`` enters. Every pricing round also evaluates (L2) at the
master's duals, a valid bound whatever the master holds, so the bound reported is the best of
those, never the restricted master's value. Artificial columns (one per group, at a cost no
pattern can be worse than) keep the master feasible from the start.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from ..reductions import Grouped
from ..solver import HighsSession, LinearProgram
from .knapsack import KnapsackBound

__all__ = ["ColumnBound"]


class ColumnBound:
    """(L7) node bounds by column generation on one persistent HiGHS master; same call as
    :meth:`KnapsackBound.bound` (the multipliers passed in are ignored: the master's duals are
    the multipliers)."""

    def __init__(self, data: Grouped, lagrangian: KnapsackBound):
        self.data = data
        self.lagrangian = lagrangian
        self.values = lagrangian.values
        self.offer_menus = lagrangian.offer_menus
        self.deadline = lagrangian.deadline
        d = data
        G, k = d.G, d.k
        self._rows = G + k + 1 + (1 if d.budget is not None else 0)
        worst = float(np.abs(d.w[:, None] * d.P).max(initial=0.0)) + float(d.fixed.max(initial=0.0))
        self.penalty = 2.0 * worst + 1.0        # per member, no real assignment costs this much
        A = sp.csr_matrix((np.ones(G), (np.arange(G), np.arange(G))), shape=(self._rows, G))
        lower = np.concatenate([d.counts, np.full(k, -np.inf), [-np.inf], [-np.inf] * (d.budget is not None)])
        upper = np.concatenate([d.counts, np.ones(k), [d.K], [d.budget] * (d.budget is not None)])
        program = LinearProgram(c=np.full(G, -self.penalty), A=A, row_lower=lower, row_upper=upper,
                                col_lower=np.zeros(G), col_upper=d.counts.astype(float))
        self.session = HighsSession(program)
        self.patterns = 0
        self.rounds = 0
        self._keys: set = set()
        self.evaluations = 0

    def add(self, t: int, z: np.ndarray) -> bool:
        """Add the pattern giving treatment ``t`` the members ``z`` (G,); False if already there."""
        key = (t, z.tobytes())
        if key in self._keys:
            return False
        self._keys.add(key)
        d = self.data
        members = np.flatnonzero(z > 0)
        index = np.concatenate([members, [d.G + t, d.G + d.k]])
        value = np.concatenate([z[members], [1.0, 1.0]])
        if d.budget is not None:
            index = np.append(index, self._rows - 1)
            value = np.append(value, float((d.w[members] * d.cost[members, t]) @ z[members]))
        cost = float((d.w[members] * d.P[members, t]) @ z[members]) - float(d.fixed[t])
        self.session.h.addCols(1, np.array([cost]), np.array([0.0]), np.array([np.inf]), index.size,
                               np.array([0], dtype=np.int32), index.astype(np.int32), value.astype(np.float64))
        self.patterns += 1
        return True

    def seed(self, slots: np.ndarray | None, x: np.ndarray | None, worth: np.ndarray, taken: np.ndarray) -> None:
        """Start from a menu's assignment (slots (s,), counts (G, s)) and from one knapsack solution
        of every treatment that has one (so a treatment forced in has a pattern)."""
        if slots is not None:
            for j, t in enumerate(slots):
                self.add(int(t), x[:, j].copy())
        for t in np.flatnonzero(np.isfinite(worth)):
            self.add(int(t), taken[:, t].copy())

    def bound(self, inside: np.ndarray, outside: np.ndarray, pi: np.ndarray, beta: float, iters: int):
        """(L, pi, beta, menu, worth) of the node: the best (L2) met in up to ``iters`` rounds."""
        d = self.data
        k = d.k
        lo = np.where(inside, 1.0, -np.inf)
        hi = np.where(outside, 0.0, 1.0)
        self.session.h.changeRowsBounds(k, (d.G + np.arange(k)).astype(np.int32), lo, hi)
        best = None
        for _ in range(max(1, iters)):
            result = self.session.run()
            self.rounds += 1
            if result.termination != "optimal":
                break                                      # infeasible node master: L below says so
            dual = self.session.row_duals()
            pi = dual[: d.G].copy()
            sigma = dual[d.G: d.G + k]
            tau = dual[d.G + k]
            beta = max(0.0, float(dual[-1])) if d.budget is not None else 0.0
            L, menu, worth, taken = self.lagrangian.evaluate(inside, outside, pi, beta)
            self.evaluations += 1
            if best is None or L < best[0]:
                best = (L, pi, beta, menu, worth)
            reduced = worth - sigma - tau
            gap = L - float(result.objective)
            if gap <= 1e-9 * max(1.0, abs(L)) or (self.deadline is not None and time.perf_counter() >= self.deadline):
                break
            added = 0
            for t in np.flatnonzero(~outside & (reduced > 1e-9 * max(1.0, abs(L))) & np.isfinite(worth)):
                added += self.add(int(t), taken[:, t].copy())
            if not added:
                break
        if best is None:                                   # the master had no optimum: fall back
            return self.lagrangian.bound(inside, outside, pi, beta, 1)
        if self.offer_menus and best[3].any():
            self.values.offer(best[3])
        return best
