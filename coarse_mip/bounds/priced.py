"""The priced bound of constrained problems where offering more never costs
(formulations/constrained.md, C9).

Price the load rows (T3) at lambda >= 0 and the budget (T4) at beta >= 0: for every feasible
(S, a), ``sum_i w_i P_ia <= sum_i max_{t in S} Q_it + sum_{t in S} lambda_t hi_t + beta B`` with
``Q_it = w_i P_it - lambda_t u_i - beta w_i c_it``. The right-hand side is a p-median on Q in
which offering t earns a bonus lambda_t hi_t, added exactly by one extra row per treatment
(lambda_t hi_t in column t, 0 elsewhere). Any upper bound of that p-median plus beta B bounds the
constrained optimum. The prices are the shadow prices of the best menu's transport LP; the
p-median's menu is valued and priced in turn.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from ..kernels import MenuValues, transport
from ..kernels.transport import TRANSPORT_GAP
from ..reductions import Grouped

__all__ = ["priced_bound"]


def priced_bound(data: Grouped, values: MenuValues, pmedian: Callable, *, deadline: float | None = None,
                 rounds: int = 8) -> tuple[float, dict]:
    """Best (C9) bound over a few pricing rounds from ``values.menu``; +inf when it does not apply
    (min loads or fixed costs, or nothing couples the individuals).

    ``pmedian(Q (n, k), weights (n,), K) -> (menu (columns), upper bound)`` solves or bounds the
    priced p-median: exactly (the exact engine) or by its LP (a heuristic). Every menu it returns
    is valued in ``values``.
    """
    d = data
    if not d.monotone or not d.coupled:
        return np.inf, {}
    t0 = time.perf_counter()
    best, seen, done = np.inf, set(), 0
    menu = values.menu
    ok = np.ones(d.P.shape, dtype=bool) if d.eligible is None else d.eligible
    for done in range(1, rounds + 1):
        if menu is None or menu.tobytes() in seen or (deadline is not None and time.perf_counter() >= deadline):
            break
        seen.add(menu.tobytes())
        slots = np.flatnonzero(menu)
        lp = transport(d, slots, exact=False)
        if lp.duals is None:
            break
        lam = np.zeros(d.k)
        lam[slots] = lp.duals["max_load"]
        beta = lp.duals["budget"] if d.budget is not None else 0.0
        Q = d.w[:, None] * d.P - lam[None, :] * d.usage[:, None]
        if beta > 0:
            Q -= beta * d.w[:, None] * d.cost
        if d.eligible is not None:      # any value keeps a relaxation; below every eligible one is tightest
            Q = np.where(ok, Q, np.where(ok, Q, np.inf).min(axis=1, keepdims=True) - 1.0)
        bonus = lam * np.where(np.isfinite(d.hi), d.hi, 0.0)
        big = float((Q.max(axis=1) - Q.min(axis=1)) @ d.counts) + 1.0
        bonus = bonus + big * d.required                      # a required column is always worth taking
        extra = np.diag(bonus)[bonus > 0]
        chosen, bound = pmedian(np.vstack([Q, extra]), np.concatenate([d.counts, np.ones(extra.shape[0])]), d.K)
        best = min(best, bound + beta * (d.budget or 0.0) - big * int(d.required.sum()))
        menu = np.zeros(d.k, dtype=bool)
        menu[chosen] = True
        values.offer(menu)
        if best - values.value <= TRANSPORT_GAP * max(1.0, abs(best)):
            break
    return best, {"priced_bound": best, "priced_rounds": done, "priced_s": time.perf_counter() - t0}
