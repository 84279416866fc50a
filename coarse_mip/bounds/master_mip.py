"""Finish the Benders decomposition by re-solving its master as a MIP (formulations/benders.md, B17)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .. import rows
from ..kernels import Incumbent, separate
from .benders import BendersLP, fix_by_reduced_cost

__all__ = ["master_mip"]


def master_mip(P: np.ndarray, w: np.ndarray, K: int, menu: np.ndarray, lp: BendersLP, allowed: np.ndarray, *,
               deadline: float | None = None, mip_gap: float = 0.0, threads: int | None = None,
               seed: int = 0, max_rounds: int = 100,
               polish: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[np.ndarray, float, dict]:
    """Finish exactly by re-solving the master as a MIP with HiGHS (B17).

    ``lp`` holds the master with every cut of the LP phase; ``allowed`` (m,) marks the columns
    that survived reduced-cost fixing. Each round solves the master MIP (warm started from
    the incumbent), separates the cuts of its menu and adds the violated ones; the master
    MIP's dual bound is valid throughout. ``polish(menu) -> menu``, e.g. a swap descent, runs
    from each round's menu and from each improving menu HiGHS finds during a round (a better
    result is handed back to HiGHS at once). Returns (best menu, bound, figures).
    """
    master, groups, sums = lp.master, lp.groups, lp.sums
    session = master.session
    G = sums.G
    session.set_integer(master.y_cols)
    session.configure(mip_gap=mip_gap, threads=threads, seed=seed)
    best = Incumbent(P, w, menu)
    bound, rounds, polished = np.inf, 0, 0

    def point(menu):
        # A start must satisfy every row: theta at the menu's group values, not 0 (else HiGHS
        # spends the round repairing it with an LP; pmed36: 114 s).
        x = np.zeros(session.num_cols)
        x[master.y_cols[menu]] = 1.0
        x[master.theta_cols] = np.bincount(groups, weights=w * rows.best_on(P, menu), minlength=G)
        return x

    descended: set = set()

    def descend(chosen) -> bool:
        # A round's final menu is often the last improving one HiGHS reported: descend once.
        nonlocal polished
        key = chosen.tobytes()
        if polish is None or chosen.size != K or key in descended:
            return False
        descended.add(key)
        better = best.offer(polish(chosen))
        polished += better
        return better

    if polish is not None:
        # Descents from HiGHS' improving menus, fed back within the same round: one round can
        # take the whole time limit (fl1400 p = 300, /tmp probe: the descents reached the
        # optimum 6109 after 69 s of a 150 s round; without them the round's best was 6160).
        session.feed_solutions(lambda x: point(best.menu) if descend(np.flatnonzero(x[master.y_cols] > 0.5)) else None)
    for rounds in range(1, max_rounds + 1):
        if deadline is not None:
            session.configure(time_limit=max(0.0, deadline - time.perf_counter()))
        # (B10) in both directions, again at each round: a better incumbent fixes more columns
        # and leaves HiGHS a smaller MIP (it restarted up to 4 times per round on pcb3038).
        lo, hi = fix_by_reduced_cost(lp, best.menu, best.value, allowed)
        master.set_y_bounds(lo, hi)
        fixed_in, fixed_out = int(lo.sum()), int((hi == 0).sum())
        session.set_start(point(best.menu))
        result = session.run()
        bound = min(bound, result.bound)
        if not result.has_solution:
            break
        x = session.values()
        y, theta = np.round(x[master.y_cols]), x[master.theta_cols]
        chosen = np.flatnonzero(y > 0.5)
        best.offer(chosen)
        # Past the deadline the descent and the separation below would only run over time (a
        # swap table and a cut pass on usa13509 take seconds each) for a round never solved.
        if _closed(bound, best.value, mip_gap) or (deadline is not None and time.perf_counter() >= deadline):
            break
        # The master's optimum often has the true optimum's value but sits on a menu its cuts
        # overrate, a swap descent away from an optimal one (pcb3038 p = 500: rounds 2-5 of 5
        # all at the optimum's value; with the descent, 2 rounds).
        if descend(chosen) and _closed(bound, best.value, mip_gap):
            break
        tol = 1e-9 * max(1.0, abs(best.value))
        cuts = separate(P, w, y, groups, G, sums, lp.top, deadline=deadline)
        if cuts is None:             # the pass reached the deadline: no cuts for a next round
            break
        C, d, _, _ = cuts
        cut = np.flatnonzero(theta > d + C @ y + tol)
        if cut.size == 0:
            # The master's menu is worth what it claims: optimal if the MIP was solved, and
            # after a time-out the dual bound above is all that is proven.
            break
        master.add_cuts(cut, C[cut], d[cut])
        if deadline is not None and time.perf_counter() >= deadline:
            break
    return best.menu, max(bound, best.value), {"master_mip_rounds": rounds, "master_mip_polished": polished,
                                               "benders_cuts": master.cuts,
                                               "master_mip_fixed_in": fixed_in, "master_mip_fixed_out": fixed_out,
                                               "highs_options": dict(session.options)}


def _closed(bound: float, value: float, mip_gap: float) -> bool:
    """Whether ``bound`` proves ``value`` optimal within ``mip_gap`` (relative) or round-off."""
    return bound <= value + max(mip_gap * abs(value), 1e-9 * max(1.0, abs(value)))
