"""Depth-first branch and bound on the menu with Lagrangian node bounds (formulations/benders.md,
B11-B13; Beasley 1993).

For any multipliers ``mu`` (n,) and a node that forces the columns F1 in and F0 out,

    L(mu) = sum_i w_i mu_i + sum_{t in F1} rho_t + (sum of the K - |F1| largest free rho_t),
    rho_t = sum_i w_i (P_it - mu_i)^+                                                 (B11)

bounds every menu of the node, because max_{t in S} P_it <= mu_i + sum_{t in S} (P_it - mu_i)^+.
Multipliers are kept between the row's best forced-in profit and its best profit outside F0,
which never raises L and zeroes the forced columns' rho. A few projected subgradient steps per
node (warm from the parent's multipliers) tighten it; penalty tests fix columns in or out
(B12); the Lagrangian menu F1 + top is a feasible menu (B13).
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from ..blocks import BLOCK_ROWS, row_blocks
from .benders import BendersLP, Incumbent, separate

__all__ = ["branch_and_bound", "lp_branch_and_bound"]

#: A node copies its live rows x free columns once up to this many entries (512 MB); larger
#: nodes (10^6 rows) re-read them from P in row blocks, so memory stays at one block.
NODE_COPY_ENTRIES = 2**26


def branch_and_bound(P: np.ndarray, w: np.ndarray, K: int, menu: np.ndarray, mu: np.ndarray, *,
                     deadline: float | None = None, root_iter: int = 300, node_iter: int = 20,
                     gap_tol: float = 1e-9) -> tuple[np.ndarray, float, float, dict]:
    """Prove (or improve) ``menu`` (K,) on profits ``P`` (n, m), weights ``w`` (n,) > 0, K < m.

    ``mu`` (n,) are starting multipliers (e.g. the LP's row levels). Returns (best menu, its
    value, a valid upper bound on every menu of at most K columns, figures). Without a
    deadline the search is complete and the bound equals the value.
    """
    n, m = P.shape
    best = Incumbent(P, w, menu)
    # Each stack entry: (forced-in mask, forced-out mask, multipliers, bound inherited).
    stack = [(np.zeros(m, bool), np.zeros(m, bool), np.asarray(mu, dtype=np.float64), np.inf)]
    nodes, pruned, iters = 0, 0, root_iter
    timed_out = False
    while stack:
        if deadline is not None and time.perf_counter() >= deadline:
            timed_out = True
            break
        inside, outside, mu, parent = stack.pop()
        value = best.value
        tol = gap_tol * max(1.0, abs(value))
        if parent <= value + tol:
            pruned += 1
            continue
        nodes += 1
        bound, mu, rho, top = _node_bound(P, w, K, inside, outside, mu, value, iters, deadline)
        iters = node_iter
        candidate = np.flatnonzero(inside | top)
        if candidate.size and best.offer(candidate):                                  # (B13)
            value = best.value
            tol = gap_tol * max(1.0, abs(value))
        if bound <= value + tol:
            pruned += 1
            continue
        free_top = np.flatnonzero(top)
        free = ~(inside | outside)
        others = np.where(free & ~top, rho, -np.inf)
        nxt = others.max() if others.size else -np.inf
        kth = rho[free_top].min() if free_top.size else np.inf
        # (B12) penalty tests: dropping a top column for the next best, or swapping a
        # non-top column in for the weakest top one, must still beat the incumbent.
        outside = outside | (free & ~top & (bound - kth + rho <= value + tol))
        must = top & (bound - rho + max(nxt, 0.0) <= value + tol)
        inside = inside | must
        top = top & ~must
        k_free = K - int(inside.sum())
        if k_free <= 0 or int((~(inside | outside)).sum()) <= k_free:
            # The node's menu is decided: the forced columns, plus every free one if they fit.
            best.offer(np.flatnonzero(inside if k_free <= 0 else ~outside))
            continue
        t = int(np.flatnonzero(top)[np.argmax(rho[top])])
        out_child = outside.copy()
        out_child[t] = True
        in_child = inside.copy()
        in_child[t] = True
        stack.append((inside, out_child, mu, bound))          # explored second
        stack.append((in_child, outside, mu, bound))          # dive: force the strongest column in
    open_bound = max((entry[3] for entry in stack), default=-np.inf)
    bound = best.value if not timed_out else max(best.value, open_bound)
    return best.menu, best.value, bound, {"bb_nodes": nodes, "bb_pruned": pruned, "bb_open": len(stack),
                                          "bb_complete": not timed_out}


def _node_bound(P, w, K, inside, outside, mu, target, iters, deadline=None):
    """Best L(mu) (B11) over ``iters`` Polyak steps aimed at ``target`` (fewer at ``deadline``).

    Returns (bound, its multipliers, its rho (m,), its top free columns as a mask (m,)).
    Multipliers are kept between each row's best forced-in profit ``a_i`` and its best profit
    outside F0 (B11): raising mu_i to a_i, or lowering it to the cap, never raises L. A row
    whose cap is its floor is settled (mu_i = a_i, no free column above it) and drops out.
    """
    n, m = P.shape
    k_free = K - int(inside.sum())
    cand = np.flatnonzero(~(inside | outside))
    floor = P[:, inside].max(axis=1) if inside.any() else np.full(n, -np.inf)
    cap = np.maximum(P[:, cand].max(axis=1, initial=-np.inf), floor)
    mu = np.clip(mu, floor, cap)
    alive = cap > floor
    live = np.flatnonzero(alive)
    settled = float(w[~alive] @ mu[~alive])
    # The node's block is copied once when it is small enough, else re-read in row blocks.
    Pf = P[np.ix_(live, cand)] if live.size * cand.size <= NODE_COPY_ENTRIES else None
    wl, lo, hi, ml = w[live], floor[live], cap[live], mu[live]
    excess = np.empty((min(live.size, BLOCK_ROWS), cand.size))
    best = (np.inf, ml, None, None)
    theta, since = 1.0, 0
    for _ in range(max(1, iters)):
        rho_free = np.zeros(cand.size)
        for b in row_blocks(live.size, BLOCK_ROWS):
            ex = excess[: b.stop - b.start]
            np.subtract(P[np.ix_(live[b], cand)] if Pf is None else Pf[b], ml[b, None], out=ex)
            np.maximum(ex, 0.0, out=ex)
            rho_free += wl[b] @ ex
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
        chosen = P[np.ix_(live, cand[top])] if Pf is None else Pf[:, top]
        g = wl * (1.0 - (chosen > ml[:, None]).sum(axis=1))
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


def lp_branch_and_bound(P: np.ndarray, w: np.ndarray, K: int, menu: np.ndarray, lp: BendersLP,
                        *, allowed: np.ndarray | None = None, deadline: float | None = None,
                        gap_tol: float = 1e-9, max_rounds: int = 50) -> tuple[np.ndarray, float, float, dict]:
    """Depth-first branch and bound whose node bound is the node's LP (B16), solved by cut
    rounds on the master of ``lp`` (the :class:`~coarse_mip.exact.benders.BendersLP` of ``P``,
    holding the root's cuts; new cuts are valid everywhere and stay). ``allowed`` (m,) bool
    marks the columns not fixed out at the root (B10).

    Same contract as :func:`branch_and_bound`.
    """
    m = P.shape[1]
    master, groups, sums = lp.master, lp.groups, lp.sums
    G = int(groups.max()) + 1
    best = Incumbent(P, w, menu)
    stack = [(np.zeros(m), np.ones(m) if allowed is None else allowed.astype(np.float64), np.inf)]
    nodes = pruned = rounds = 0
    timed_out = False
    while stack:
        if deadline is not None and time.perf_counter() >= deadline:
            timed_out = True
            break
        value = best.value
        tol = gap_tol * max(1.0, abs(value))
        lo, hi, parent = stack.pop()
        if parent <= value + tol or lo.sum() > K or hi.sum() < K:
            pruned += 1
            continue
        nodes += 1
        master.set_y_bounds(lo, hi)
        z = np.inf
        for _ in range(max_rounds):
            z, y, theta, rc = master.solve()
            rounds += 1
            if master.h.getModelStatus() != highspy.HighsModelStatus.kOptimal or z <= value + tol:
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break                                        # z is still a valid bound
            if best.offer(np.argpartition(-y, K - 1)[:K]):
                value = best.value
                tol = gap_tol * max(1.0, abs(value))
            C, d, f, _ = separate(P, w, y, groups, G, sums)
            cut = np.flatnonzero(theta > d + C @ y + 1e-9 * max(1.0, abs(z)))
            if cut.size == 0:
                break                                        # the node LP is solved
            master.add_cuts(cut, C[cut], d[cut])
        if not z > value + tol:
            pruned += 1
            continue
        frac = np.minimum(y - lo, hi - y)
        # (B10) at the node: reduced costs fix columns for the subtree.
        lo, hi = lo.copy(), hi.copy()
        hi[(y <= 1e-9) & (z + rc < value - tol)] = 0.0
        lo[(y >= 1 - 1e-9) & (z - rc < value - tol)] = 1.0
        if frac.max() > 1e-9:
            t = int(np.argmax(np.where(frac > 1e-9, y, -np.inf)))
        else:                        # integral but the cut rounds ran out: branch on a chosen column
            free_in = np.flatnonzero((y > 0.5) & (lo < 0.5))
            if free_in.size == 0:
                continue                                     # fully decided: evaluated above
            t = int(free_in[0])
        hi0, lo1 = hi.copy(), lo.copy()
        hi0[t], lo1[t] = 0.0, 1.0
        stack.append((lo, hi0, z))
        stack.append((lo1, hi, z))
    master.set_y_bounds(np.zeros(m), np.ones(m))
    open_bound = max((entry[2] for entry in stack), default=-np.inf)
    bound = best.value if not timed_out else max(best.value, open_bound)
    return best.menu, best.value, bound, {"bb_nodes": nodes, "bb_pruned": pruned, "bb_open": len(stack),
                                          "bb_complete": not timed_out, "bb_lp_rounds": rounds}
