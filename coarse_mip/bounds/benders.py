"""Benders decomposition of the radius formulation (formulations/benders.md, B1-B9, B15).

The master keeps only the menu ``y`` (m,) and one value variable per row group; every row's
LP given ``y`` is solved in closed form (:func:`coarse_mip.kernels.separate`) and returns the
cut (B3), summed over the rows of a group (B4). The master (B6) is held in one HiGHS session;
cuts are appended to it as sparse row blocks, never rebuilt, and the LP is re-solved warm
from the previous basis.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .. import rows
from ..formulations.master import build_master
from ..kernels import Incumbent, TopColumns, row_groups, separate
from ..solver import ITERATION_UNLIMITED, HighsSession

__all__ = ["BendersMaster", "BendersLP", "LPBounder", "benders_lp", "fix_by_reduced_cost"]

logger = logging.getLogger(__name__)


#: Seconds a master LP gets even when the deadline is (nearly) past.
MIN_MASTER_S = 1.0


class BendersMaster:
    """The master LP (B6): max sum_g theta_g, sum_t y_t = K, 0 <= y <= 1, theta_g <= ub_g, cuts."""

    def __init__(self, m: int, K: int, group_ub: np.ndarray, *, seed: int = 0):
        model = build_master(m, K, group_ub)
        y = [model.y[t] for t in range(m)]
        theta = [model.theta[g] for g in range(group_ub.size)]
        self.session = HighsSession.from_pyomo(model, first=y + theta)
        self.session.configure(seed=seed)
        self.y_cols = self.session.columns(y)
        self.theta_cols = self.session.columns(theta)
        self.cuts = 0
        self.first_cut_row = self.session.num_rows
        self.cut_group: list[np.ndarray] = []
        self.cut_round: list[np.ndarray] = []

    @property
    def h(self):
        """The HiGHS object holding the master (read only)."""
        return self.session.h

    def add_cuts(self, g: np.ndarray, C, d: np.ndarray, round_id: int = 0) -> None:
        """Append ``theta_g - C[j] . y <= d[j]`` for each listed group ``g[j]`` (B4); ``C``
        dense or sparse (len(g), m)."""
        self.cut_group.append(np.asarray(g, dtype=np.intp))
        self.cut_round.append(np.full(len(g), round_id, dtype=np.intp))
        C = sp.csr_matrix(C)
        C.eliminate_zeros()
        counts = np.diff(C.indptr) + 1
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        index = np.empty(counts.sum(), dtype=np.int32)
        value = np.empty(counts.sum())
        index[starts] = self.theta_cols[g]
        value[starts] = 1.0
        body = np.ones(counts.sum(), dtype=bool)
        body[starts] = False
        index[body] = self.y_cols[C.indices]
        value[body] = -C.data
        self.session.add_rows(np.full(len(g), -np.inf), d, starts, index, value)
        self.cuts += len(g)

    def cut_weights(self, G: int, rounds: int) -> np.ndarray:
        """(G, rounds) weights of each round's cut in each group at the last LP: its dual value.

        Each group's weights are >= 0 and sum to at most 1 (the rest sits on theta's bound).
        """
        dual = np.abs(self.session.row_duals()[self.first_cut_row:])
        weights = np.zeros((G, rounds))
        np.add.at(weights, (np.concatenate(self.cut_group), np.concatenate(self.cut_round)), dual)
        total = weights.sum(axis=1, keepdims=True)
        return weights / np.maximum(total, 1.0)        # guard against round-off above 1

    def purge(self) -> int:
        """Delete the cuts whose dual is zero at the last LP; returns how many.

        The LP's value stays: its dual solution is still feasible, hence optimal. Later LPs
        (branch and bound nodes, B16) solve faster on the smaller master, and a node that
        needs a deleted cut gets it back from separation.
        """
        dual = self.session.row_duals()[self.first_cut_row:]
        drop = np.flatnonzero(np.abs(dual) <= 1e-12)
        self.session.delete_rows(self.first_cut_row + drop)
        keep = np.ones(dual.size, dtype=bool)
        keep[drop] = False
        self.cut_group = [np.concatenate(self.cut_group)[keep]] if self.cut_group else []
        self.cut_round = [np.concatenate(self.cut_round)[keep]] if self.cut_round else []
        self.cuts -= drop.size
        return int(drop.size)

    def set_y_bounds(self, lo, hi, cols: np.ndarray | None = None) -> None:
        """Bound y_t to [lo_t, hi_t] for the listed columns (default: every y; branching fixes
        columns in or out); ``lo``, ``hi`` scalars or one value per column."""
        cols = np.arange(self.y_cols.size) if cols is None else np.atleast_1d(cols)
        self.session.set_bounds(self.y_cols[cols], np.broadcast_to(lo, cols.shape), np.broadcast_to(hi, cols.shape))

    def solve(self, deadline: float | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """(value, y (m,), theta (G,), reduced costs of y (m,)) of the master LP.

        HiGHS stops at ``deadline`` (given at least MIN_MASTER_S: a small master still gets its
        LP); a master stopped early proves nothing, its value is +inf."""
        left = np.inf if deadline is None else max(deadline - time.perf_counter(), MIN_MASTER_S)
        self.session.configure(time_limit=left)
        result = self.session.run()
        if result.termination == "optimal" and not result.has_solution:
            # HiGHS can call a warm-started LP optimal with a primal point outside its tolerances
            # (seen after strong branching on noisy 10^4 x 101): solve it again from scratch.
            self.session.forget_basis()
            result = self.session.run()
        self.last = result
        if result.termination == "optimal" and result.has_solution:
            value = result.objective
        else:                 # an infeasible node LP bounds nothing below it; anything else proves nothing
            value = -np.inf if result.termination == "infeasible" else np.inf
        x = self.session.values()
        return float(value), x[self.y_cols], x[self.theta_cols], self.session.column_duals(self.y_cols)

    def probe(self, deadline: float | None, max_iter: int) -> tuple[float, float]:
        """(estimate, bound) of the master LP after at most ``max_iter`` simplex iterations.

        From a basis that stays dual feasible (a bound change), dual simplex values fall
        towards the LP optimum, so the value where it stopped ranks branching candidates
        (B19); only a solved LP bounds anything: ``bound`` is its value (-inf when
        infeasible), +inf when the iterations ran out.
        """
        self.session.configure(iteration_limit=max_iter)
        try:
            value = self.solve(deadline)[0]
        finally:
            self.session.configure(iteration_limit=ITERATION_UNLIMITED)
        estimate = value if np.isfinite(value) or self.last.termination == "infeasible" else self.last.last_objective
        return float(estimate), value           # estimate NaN: nothing known


@dataclass
class BendersLP:
    """Result of the cut loop: ``bound`` is valid for every menu of at most K columns."""

    bound: float
    lp_value: float                   # best LP value found at a master point (B5)
    menu: np.ndarray                  # best integral menu seen (incumbent)
    value: float
    y: np.ndarray                     # last master point (m,)
    master_value: float               # objective of the last master LP
    reduced_costs: np.ndarray         # of y at the last master LP (m,): value <= master_value + rc_t if y_t = 1
    master: BendersMaster             # the master with every cut, for branch and bound on node LPs
    groups: np.ndarray                # row groups of the cuts (n,)
    sums: rows.GroupSums              # their group sums, for separating again
    top: TopColumns | None            # the rows' sorted lists (in memory), for separating again
    multipliers: np.ndarray           # Lagrangian multipliers mu (n,) (B11): from the cut duals (B15)
                                      # when the levels were kept, else the best point's levels
    stats: dict = field(default_factory=dict)


#: Keep every round's row levels (for the dual multipliers, B15) up to this many rows.
KEEP_LEVELS_ROWS = 200_000


def benders_lp(P: np.ndarray, w: np.ndarray, K: int, menu: np.ndarray, *, max_groups: int = 512,
               alpha: float = 0.5, max_iter: int = 200, gap_tol: float = 1e-9, lp_tol: float = 1e-9,
               deadline: float | None = None, seed: int = 0, settle_tol: float = 1e-7) -> BendersLP:
    """Solve the LP relaxation of the radius model by aggregated Benders cuts (B7).

    ``menu`` (K,) is a good incumbent: it seeds the stabilization core (in-out, B8) and is
    improved by rounding master points; once a round lowers the master value by less than
    ``settle_tol`` (relative) the next one cuts at the master point itself. Stops when the
    bound proves the incumbent within ``gap_tol`` (relative), when the LP is solved to
    ``lp_tol``, after ``max_iter`` rounds, or at ``deadline``: a round is not started when
    twice the longest one so far would end past the deadline, and one whose separation reaches
    the deadline is dropped (the first round always runs).
    """
    t0 = time.perf_counter()
    n, m = P.shape
    groups, G = row_groups(P, menu, max_groups)
    best_row = rows.row_max(P)
    master = BendersMaster(m, K, np.bincount(groups, weights=w * best_row, minlength=G), seed=seed)
    sums = rows.group_sums(P, w, groups, G)
    top = TopColumns(P) if rows.in_memory(P) else None
    best = Incumbent(P, w, menu)
    core = np.zeros(m)
    core[best.menu] = 1.0
    scale = max(1.0, abs(best.value))
    # Per-group violation threshold: G groups together may leave at most 1e-10 relative slack.
    cut_tol = 1e-10 * scale / G
    bound, lp_value, y, theta, rc, bound_it = np.inf, -np.inf, core, None, np.zeros(m), np.inf
    levels, rounds, settled = None, [], False
    sep_s = master_s = 0.0
    it = 0
    round_s = 0.0
    for it in range(1, max_iter + 1):
        ts = time.perf_counter()
        if theta is None:
            point = core
        elif settled:            # the master barely moved: its own point is the one to cut (B8)
            point = y
        else:
            point = alpha * y + (1 - alpha) * core                           # (B8)
        # A pass that reaches the deadline is dropped (the last master's bound stands); the
        # first round, which gives the first bound, always completes.
        cuts = separate(P, w, point, groups, G, sums, top, deadline=None if theta is None else deadline)
        if cuts is not None:
            C, d, f, V = cuts
            cut = np.arange(G) if theta is None else np.flatnonzero(theta > d + C @ y + cut_tol)
            late = deadline is not None and 2 * time.perf_counter() - ts > deadline
            if cut.size == 0 and point is not y and not late:                # no progress: plain Kelley
                point, cuts = y, separate(P, w, y, groups, G, sums, top, deadline=deadline)
                if cuts is not None:
                    C, d, f, V = cuts
                    cut = np.flatnonzero(theta > d + C @ y + cut_tol)
        sep_s += time.perf_counter() - ts
        if cuts is None:
            break
        if f > lp_value:
            lp_value, levels = f, V
        if cut.size == 0:
            break                                                            # y is LP optimal
        master.add_cuts(cut, C[cut], d[cut], len(rounds))
        rounds.append(V if n <= KEEP_LEVELS_ROWS else None)
        core = 0.5 * core + 0.5 * point
        tm = time.perf_counter()
        bound_it, y, theta, rc = master.solve(deadline)
        master_s += time.perf_counter() - tm
        settled = bound - bound_it < settle_tol * scale
        bound = min(bound, bound_it)
        best.offer(np.argpartition(-y, K - 1)[:K])                           # (B9) rounding
        round_s = max(round_s, time.perf_counter() - ts)
        # Rounds slow down as the LP point spreads: the next may take twice the longest so far
        # (10^6 x 101, K = 10: 1.5 s, then 2.7 s, which ended 1.4 s past a 5 s limit).
        if (bound - best.value <= gap_tol * scale or bound - lp_value <= lp_tol * scale
                or (deadline is not None and time.perf_counter() + 2 * round_s >= deadline)):
            break
    if rounds and rounds[0] is not None and theta is not None:
        # (B15) mu_i = sum_c pi_c V_i^c + (1 - sum_c pi_c) max_t P_it over the cuts c of i's group.
        weights = master.cut_weights(G, len(rounds))[groups]
        levels = (1.0 - weights.sum(axis=1)) * best_row
        for r, V_r in enumerate(rounds):
            levels += weights[:, r] * V_r
    stats = {"benders_iterations": it, "benders_groups": G, "benders_cuts": master.cuts,
             "benders_separation_s": sep_s, "benders_master_s": master_s, "benders_round_s": round_s,
             "benders_s": time.perf_counter() - t0, "lp_value": lp_value}
    logger.debug("Benders LP: bound %.6g, LP >= %.6g, incumbent %.6g after %d rounds", bound, lp_value, best.value, it)
    return BendersLP(bound, lp_value, best.menu, best.value, y, bound_it, rc, master, groups, sums, top, levels, stats)


def fix_by_reduced_cost(lp: BendersLP, menu: np.ndarray, value: float,
                        allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(B10) y bounds (lo, hi) (m,) that every menu worth ``value`` (that of ``menu``) or more satisfies.

    With ``z`` the last master LP value and ``r_t`` the reduced costs there, a menu with
    ``y_t = 1`` is worth at most ``z + r_t`` (``r_t <= 0``, y_t at its lower bound) and one with
    ``y_t = 0`` at most ``z - r_t`` (``r_t >= 0``, at its upper bound); ``allowed`` (m,) bool
    (default: all) marks the columns not dropped already. A margin covers LP round-off, and
    ``menu`` itself always stays feasible.
    """
    z, r = lp.master_value, lp.reduced_costs
    floor = value - 1e-7 * max(1.0, abs(value))
    hi = z + r >= floor
    if allowed is not None:
        hi &= allowed
    hi[menu] = True
    lo = np.zeros_like(hi)
    lo[menu] = (z - r[menu]) < floor
    return lo.astype(np.float64), hi.astype(np.float64)


class LPBounder:
    """``bounder(menu) -> (menu, value, bound)`` for a menu search: the first call runs the
    Benders cut loop seeded with the menu (its roundings may return a better menu), later calls
    keep that bound. ``lp`` and ``stats`` hold what the loop found."""

    def __init__(self, P: np.ndarray, w: np.ndarray, K: int, *, deadline: float | None, seed: int,
                 gap_tol: float = 1e-9, max_groups: int = 512, adopt_menu: bool = True):
        self.P, self.w, self.K = P, w, K
        self.options = dict(deadline=deadline, seed=seed, gap_tol=gap_tol, max_groups=max_groups)
        self.adopt_menu = adopt_menu
        self.lp: BendersLP | None = None
        self.stats: dict = {}

    def __call__(self, menu: np.ndarray) -> tuple[np.ndarray, float, float]:
        if self.lp is not None:
            return menu, rows.menu_value(self.P, self.w, menu), self.lp.bound
        deadline = self.options["deadline"]
        # The bound gets a round even when the search used up the time limit (one round is cheap).
        options = dict(self.options, deadline=None if deadline is None else max(deadline, time.perf_counter() + 1e-3))
        self.lp = lp = benders_lp(self.P, self.w, self.K, menu, **options)
        # The loop's menu differs only when a rounding is strictly better than ``menu``.
        better = not np.array_equal(lp.menu, np.sort(menu))
        self.stats = dict(lp.stats, bound_menu_better=better)
        if better and not self.adopt_menu:
            return menu, rows.menu_value(self.P, self.w, menu), lp.bound
        return lp.menu, lp.value, lp.bound
