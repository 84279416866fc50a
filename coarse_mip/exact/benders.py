"""Benders decomposition of the radius formulation (formulations/benders.md, B1-B9).

The master keeps only the menu ``y`` (m,) and one value variable per row group; every row's
LP given ``y`` is solved in closed form and returns the cut (B3)

    theta_i <= V_i + sum_t (P_it - V_i)^+ y_t,

summed over the rows of a group (B4). The master is a Pyomo model handed once to a persistent
HiGHS object; cuts are appended to it as sparse row blocks (``addRows``), never rebuilt, and
the LP is re-solved warm from the previous basis.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.contrib.solver.solvers.highs import Highs

from ..blocks import BLOCK_ROWS, row_blocks
from ..heuristics.swap import menu_value, row_values

__all__ = ["BendersMaster", "BendersLP", "Incumbent", "benders_lp", "group_sums", "master_mip", "row_groups", "separate"]

logger = logging.getLogger(__name__)


def row_groups(P: np.ndarray, menu: np.ndarray, max_groups: int) -> tuple[np.ndarray, int]:
    """Group rows for aggregated cuts (B4): by best column overall and best column on ``menu``.

    Rows in a group have similar curves, so their summed cut stays close to their separate
    cuts. Groups beyond ``max_groups`` are folded together (by modulo). Returns (ids (n,), G).
    """
    m = P.shape[1]
    key = np.concatenate([P[s].argmax(axis=1) * m + menu[P[s][:, menu].argmax(axis=1)]
                          for s in row_blocks(P.shape[0])])
    _, ids = np.unique(key, return_inverse=True)
    ids = ids.ravel() % max_groups
    return ids, int(ids.max()) + 1


def group_sums(w: np.ndarray, groups: np.ndarray, G: int) -> list:
    """Per row block, the sparse (G, rows) matrix that sums weighted rows into their groups."""
    return [sp.csr_matrix((w[s], (groups[s], np.arange(s.stop - s.start))), shape=(G, s.stop - s.start))
            for s in row_blocks(groups.size)]


def separate(P: np.ndarray, w: np.ndarray, y: np.ndarray, groups: np.ndarray, G: int,
             sums: list | None = None) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Cuts (B3) of every row at the master point ``y`` (m,), summed per group (B4).

    V_i is where the row's columns, taken by decreasing profit, fill a total y of 1 (B2).
    ``sums``: :func:`group_sums` of (w, groups, G), when the caller separates repeatedly.
    Returns (C (G, m), d (G,), value, V (n,)) with group cut ``theta_g <= d_g + C_g . y`` and
    ``value`` = sum_i w_i f_i(y), the LP value of ``y`` (B5).
    """
    n, m = P.shape
    sums = group_sums(w, groups, G) if sums is None else sums
    support = np.flatnonzero(y > 1e-12)
    integral = bool((y[support] >= 1.0 - 1e-9).all())
    C = np.zeros((G, m))
    V = np.empty(n)
    buf = np.empty((min(n, BLOCK_ROWS), m))
    for s, by_group in zip(row_blocks(n), sums):
        sub = P[s][:, support]
        if integral:                 # the best chosen column alone fills the row
            V[s] = sub.max(axis=1)
        else:
            order = np.argsort(-sub, axis=1, kind="stable")
            filled = np.cumsum(y[support][order], axis=1)
            # sum(y) = K >= 1, so every row fills up; 1e-9 absorbs LP round-off in y.
            at = np.argmax(filled >= 1.0 - 1e-9, axis=1)
            V[s] = np.take_along_axis(sub, order[np.arange(sub.shape[0]), at][:, None], axis=1)[:, 0]
        excess = buf[: sub.shape[0]]
        np.subtract(P[s], V[s, None], out=excess)
        np.maximum(excess, 0.0, out=excess)
        C += by_group @ excess
    d = np.bincount(groups, weights=w * V, minlength=G)
    return C, d, float(d.sum() + C.sum(axis=0) @ y), V


class Incumbent:
    """The best menu offered so far on profits ``P`` (n, m), weights ``w`` (n,); a menu offered
    again is not evaluated again (roundings and node menus repeat)."""

    def __init__(self, P: np.ndarray, w: np.ndarray, menu: np.ndarray):
        self.P, self.w = P, w
        self.menu = np.sort(np.asarray(menu, dtype=np.intp))
        self.value = menu_value(P, w, self.menu)
        self._seen = {self.menu.tobytes()}

    def offer(self, menu: np.ndarray) -> bool:
        """Keep ``menu`` if it is strictly better; True when it was."""
        menu = np.sort(np.asarray(menu, dtype=np.intp))
        key = menu.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        value = menu_value(self.P, self.w, menu)
        if value > self.value:
            self.menu, self.value = menu, value
            return True
        return False


class BendersMaster:
    """The master LP (B6): max sum_g theta_g, sum_t y_t = K, 0 <= y <= 1, theta_g <= ub_g, cuts."""

    def __init__(self, m: int, K: int, group_ub: np.ndarray, *, seed: int = 0):
        model = pyo.ConcreteModel()
        G = group_ub.size
        model.y = pyo.Var(range(m), bounds=(0.0, 1.0))
        model.theta = pyo.Var(range(G), bounds=lambda _, g: (None, float(group_ub[g])))
        model.obj = pyo.Objective(expr=pyo.quicksum(model.theta[g] for g in range(G)), sense=pyo.maximize)
        model.card = pyo.Constraint(expr=pyo.quicksum(model.y[t] for t in range(m)) == K)      # (B6)
        opt = Highs()
        opt.set_instance(model)
        self.h = opt._solver_model
        col = opt._pyomo_var_to_solver_var_map
        self.y_cols = np.array([col[id(model.y[t])] for t in range(m)])
        self.theta_cols = np.array([col[id(model.theta[g])] for g in range(G)])
        for key, value in {"output_flag": False, "log_to_console": False,
                           "random_seed": int(seed) % 2_147_483_647}.items():
            self.h.setOptionValue(key, value)
        self.model, self.cuts = model, 0
        self.first_cut_row = self.h.getNumRow()
        self.cut_group: list[np.ndarray] = []
        self.cut_round: list[np.ndarray] = []

    def add_cuts(self, g: np.ndarray, C: np.ndarray, d: np.ndarray, round_id: int = 0) -> None:
        """Append ``theta_g - C[j] . y <= d[j]`` for each listed group ``g[j]`` (B4)."""
        self.cut_group.append(np.asarray(g, dtype=np.intp))
        self.cut_round.append(np.full(len(g), round_id, dtype=np.intp))
        nz = C != 0.0
        counts = nz.sum(axis=1) + 1
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        index = np.empty(counts.sum(), dtype=np.int32)
        value = np.empty(counts.sum())
        index[starts] = self.theta_cols[g]
        value[starts] = 1.0
        body = np.ones(counts.sum(), dtype=bool)
        body[starts] = False
        rows, cols = np.nonzero(nz)
        index[body] = self.y_cols[cols]
        value[body] = -C[rows, cols]
        self.h.addRows(len(g), np.full(len(g), -np.inf), d.astype(np.float64), index.size,
                       starts.astype(np.int32), index, value)
        self.cuts += len(g)

    def cut_weights(self, G: int, rounds: int) -> np.ndarray:
        """(G, rounds) weights of each round's cut in each group at the last LP: its dual value.

        Each group's weights are >= 0 and sum to at most 1 (the rest sits on theta's bound).
        """
        dual = np.abs(np.asarray(self.h.getSolution().row_dual)[self.first_cut_row:])
        weights = np.zeros((G, rounds))
        np.add.at(weights, (np.concatenate(self.cut_group), np.concatenate(self.cut_round)), dual)
        total = weights.sum(axis=1, keepdims=True)
        return weights / np.maximum(total, 1.0)        # guard against round-off above 1

    def set_y_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Bound every y_t to [lo_t, hi_t] (branching fixes columns in or out)."""
        self.h.changeColsBounds(self.y_cols.size, self.y_cols.astype(np.int32),
                                lo.astype(np.float64), hi.astype(np.float64))

    def solve(self) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """(value, y (m,), theta (G,), reduced costs of y (m,)) of the master LP."""
        self.h.run()
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        return (float(self.h.getInfo().objective_function_value), x[self.y_cols], x[self.theta_cols],
                np.asarray(sol.col_dual)[self.y_cols])


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
    master: "BendersMaster"           # the master with every cut, for branch and bound on node LPs
    groups: np.ndarray                # row groups of the cuts (n,)
    sums: list                        # their group_sums, for separating again
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
    bound proves the incumbent within ``gap_tol`` (relative), when the LP is solved to ``lp_tol``, after ``max_iter`` rounds, or at
    ``deadline``.
    """
    t0 = time.perf_counter()
    n, m = P.shape
    groups, G = row_groups(P, menu, max_groups)
    best_row = np.concatenate([P[s].max(axis=1) for s in row_blocks(n)])
    master = BendersMaster(m, K, np.bincount(groups, weights=w * best_row, minlength=G), seed=seed)
    sums = group_sums(w, groups, G)
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
    for it in range(1, max_iter + 1):
        ts = time.perf_counter()
        if theta is None:
            point = core
        elif settled:            # the master barely moved: its own point is the one to cut (B8)
            point = y
        else:
            point = alpha * y + (1 - alpha) * core                           # (B8)
        C, d, f, V = separate(P, w, point, groups, G, sums)
        cut = np.arange(G) if theta is None else np.flatnonzero(theta > d + C @ y + cut_tol)
        if cut.size == 0 and point is not y:                                 # no progress: plain Kelley
            point = y
            C, d, f, V = separate(P, w, y, groups, G, sums)
            cut = np.flatnonzero(theta > d + C @ y + cut_tol)
        if f > lp_value:
            lp_value, levels = f, V
        sep_s += time.perf_counter() - ts
        if cut.size == 0:
            break                                                            # y is LP optimal
        master.add_cuts(cut, C[cut], d[cut], len(rounds))
        rounds.append(V if n <= KEEP_LEVELS_ROWS else None)
        core = 0.5 * core + 0.5 * point
        tm = time.perf_counter()
        bound_it, y, theta, rc = master.solve()
        master_s += time.perf_counter() - tm
        settled = bound - bound_it < settle_tol * scale
        bound = min(bound, bound_it)
        best.offer(np.argpartition(-y, K - 1)[:K])                           # (B9) rounding
        if (bound - best.value <= gap_tol * scale or bound - lp_value <= lp_tol * scale
                or (deadline is not None and time.perf_counter() >= deadline)):
            break
    if rounds and rounds[0] is not None and theta is not None:
        # (B15) mu_i = sum_c pi_c V_i^c + (1 - sum_c pi_c) max_t P_it over the cuts c of i's group.
        weights = master.cut_weights(G, len(rounds))[groups]
        levels = (1.0 - weights.sum(axis=1)) * best_row
        for r, V_r in enumerate(rounds):
            levels += weights[:, r] * V_r
    stats = {"benders_iterations": it, "benders_groups": G, "benders_cuts": master.cuts,
             "benders_separation_s": sep_s, "benders_master_s": master_s,
             "benders_s": time.perf_counter() - t0, "lp_value": lp_value}
    logger.debug("Benders LP: bound %.6g, LP >= %.6g, incumbent %.6g after %d rounds", bound, lp_value, best.value, it)
    return BendersLP(bound, lp_value, best.menu, best.value, y, bound_it, rc, master, groups, sums, levels, stats)


def master_mip(P: np.ndarray, w: np.ndarray, K: int, menu: np.ndarray, lp: BendersLP, allowed: np.ndarray, *,
               deadline: float | None = None, mip_gap: float = 0.0, threads: int | None = None,
               seed: int = 0, max_rounds: int = 100) -> tuple[np.ndarray, float, dict]:
    """Finish exactly by re-solving the master as a MIP with HiGHS (B17).

    ``lp`` holds the master with every cut of the LP phase; ``allowed`` (m,) marks the columns
    that survived reduced-cost fixing. Each round solves the master MIP (warm started from
    the incumbent), separates the cuts of its menu and adds the violated ones; the master
    MIP's dual bound is valid throughout. Returns (best menu, bound, figures).
    """
    master, groups, sums = lp.master, lp.groups, lp.sums
    h = master.h
    G = int(groups.max()) + 1
    master.set_y_bounds(np.zeros(P.shape[1]), allowed.astype(np.float64))
    for c in master.y_cols:
        h.changeColIntegrality(int(c), highspy.HighsVarType.kInteger)
    options = {"mip_rel_gap": float(mip_gap), "mip_abs_gap": 1e-9, "random_seed": int(seed) % 2_147_483_647}
    if threads is not None:
        options["threads"] = int(threads)
    for key, value in options.items():
        h.setOptionValue(key, value)
    best = Incumbent(P, w, menu)
    bound, rounds = np.inf, 0
    for rounds in range(1, max_rounds + 1):
        if deadline is not None:
            h.setOptionValue("time_limit", max(0.0, deadline - time.perf_counter()))
        # A start must satisfy every row: theta at the menu's group values, not 0 (else HiGHS
        # spends the round repairing it with an LP; pmed36: 114 s).
        start = np.zeros(h.getNumCol())
        start[master.y_cols[best.menu]] = 1.0
        start[master.theta_cols] = np.bincount(groups, weights=w * row_values(P, best.menu), minlength=G)
        sol = highspy.HighsSolution()
        sol.col_value = start.tolist()
        h.setSolution(sol)
        h.run()
        info = h.getInfo()
        if np.isfinite(info.mip_dual_bound):
            bound = min(bound, float(info.mip_dual_bound))
        if info.primal_solution_status != 2:
            break
        x = np.asarray(h.getSolution().col_value)
        y, theta = np.round(x[master.y_cols]), x[master.theta_cols]
        best.offer(np.flatnonzero(y > 0.5))
        tol = 1e-9 * max(1.0, abs(best.value))
        if bound <= best.value + max(mip_gap * abs(best.value), tol):
            break
        C, d, _, _ = separate(P, w, y, groups, G, sums)
        cut = np.flatnonzero(theta > d + C @ y + tol)
        if cut.size == 0:
            # The master's menu is worth what it claims: optimal if the MIP was solved, and
            # after a time-out the dual bound above is all that is proven.
            break
        master.add_cuts(cut, C[cut], d[cut])
        if deadline is not None and time.perf_counter() >= deadline:
            break
    return best.menu, max(bound, best.value), {"master_mip_rounds": rounds, "benders_cuts": master.cuts}
