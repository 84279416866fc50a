"""The Lagrangian bound of a branch-and-bound node on the menu (formulations/benders.md, B11).

For any multipliers ``mu`` (n,) and a node that forces the columns F1 in and F0 out,

    L(mu) = sum_i w_i mu_i + sum_{t in F1} rho_t + (sum of the K - |F1| largest free rho_t),
    rho_t = sum_i w_i (P_it - mu_i)^+                                                 (B11)

bounds every menu of the node, because max_{t in S} P_it <= mu_i + sum_{t in S} (P_it - mu_i)^+.
Multipliers are kept between the row's best forced-in profit and its best profit outside F0,
which never raises L and zeroes the forced columns' rho.
"""

from __future__ import annotations

import time

import numpy as np

from ..kernels import NodeTops, counts_above, excess_sums, row_max

__all__ = ["lagrangian_node_bound"]


def lagrangian_node_bound(P: np.ndarray, w: np.ndarray, K: int, inside: np.ndarray, outside: np.ndarray,
                          mu: np.ndarray, target: float, iters: int, deadline: float | None = None,
                          *, block: int | None = None,
                          tops: NodeTops | None = None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Best L(mu) (B11) over ``iters`` Polyak steps aimed at ``target`` (fewer at ``deadline``).

    ``inside`` / ``outside`` (m,) bool are the node's forced-in and forced-out columns.
    Returns (bound, its multipliers (n,), its rho (m,), its top free columns as a mask (m,)).
    Multipliers are kept between each row's best forced-in profit ``a_i`` and its best profit
    outside F0 (B11): raising mu_i to a_i, or lowering it to the cap, never raises L. A row
    whose cap is its floor is settled (mu_i = a_i, no free column above it) and drops out.
    ``block``: rows per block of the numpy passes (default: the row layer's rule). The passes
    read P in place (kernels/node_bound.py): no copy of the node's rows; ``tops``, P's sorted
    lists (:func:`~coarse_mip.kernels.node_tops`), let them stop at each row's level.
    """
    n, m = P.shape
    k_free = K - int(inside.sum())
    cand = np.flatnonzero(~(inside | outside))
    floor = row_max(P, np.flatnonzero(inside), tops=tops)
    cap = np.maximum(row_max(P, cand, tops=tops), floor)
    mu = np.clip(mu, floor, cap)
    alive = cap > floor
    live = np.flatnonzero(alive)
    settled = float(w[~alive] @ mu[~alive])
    wl, lo, hi, ml = w[live], floor[live], cap[live], mu[live]
    best = (np.inf, ml, None, None)
    theta, since = 1.0, 0
    for _ in range(max(1, iters)):
        rho_free = excess_sums(P, live, cand, ml, wl, block=block, tops=tops)
        top = np.argsort(-rho_free, kind="stable")[:max(k_free, 0)]
        L = settled + float(wl @ ml + rho_free[top].sum())
        if L < best[0]:
            best, since = (L, ml.copy(), rho_free, top), 0
        else:
            since += 1
            if since >= 5:
                theta, since = theta / 2, 0
        if L <= target or (deadline is not None and time.perf_counter() >= deadline):
            break
        g = wl * (1.0 - counts_above(P, live, cand[top], ml, tops=tops))
        g[((ml <= lo) & (g > 0)) | ((ml >= hi) & (g < 0))] = 0.0     # projected step
        norm = float(g @ g)
        if norm == 0.0:
            break
        ml = np.clip(ml - theta * (L - target) / norm * g, lo, hi)
    L, ml, rho_free, top = best
    mu[live] = ml
    rho = np.zeros(m)
    rho[cand] = rho_free
    mask = np.zeros(m, bool)
    mask[cand[top]] = True
    return L, mu, rho, mask
