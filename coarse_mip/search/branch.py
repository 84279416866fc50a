"""Branch and bound on the menu (formulations/benders.md): two node bounds, one tree search.

* :func:`branch_and_bound` -- Lagrangian node bounds (B11) with penalty tests (B12) and the
  Lagrangian menu as an incumbent (B13); Beasley 1993.
* :func:`lp_branch_and_bound` -- node LPs solved by Benders cut rounds on the root's master
  (B16), with reduced-cost fixing at every node (B10).
"""

from __future__ import annotations

import time

import numpy as np

from ..bounds import BendersLP, lagrangian_node_bound
from ..kernels import Incumbent, node_tops, separate
from .swap import swap_search
from .tree import tree_search

__all__ = ["branch_and_bound", "lp_branch_and_bound"]

#: Bytes of multipliers the open nodes of best-first :func:`branch_and_bound` may hold (each
#: node keeps its parent's mu (n,) float64): past it, the search plunges depth first.
OPEN_NODE_BYTES = 2 * 2**30


def branch_and_bound(P: np.ndarray, w: np.ndarray, K: int, menu: np.ndarray, mu: np.ndarray, *,
                     deadline: float | None = None, root_iter: int = 300, node_iter: int = 20,
                     gap_tol: float = 1e-9, block_rows: int | None = None, order: str = "best",
                     max_nodes: int | None = None, progress: bool = False) -> tuple[np.ndarray, float, float, dict]:
    """Prove (or improve) ``menu`` (K,) on profits ``P`` (n, m), weights ``w`` (n,) > 0, K < m.

    ``mu`` (n,) are starting multipliers (e.g. the LP's row levels); the root takes
    ``root_iter`` subgradient steps, every other node ``node_iter`` (warm from its parent's
    multipliers). ``order`` and ``max_nodes``: of :func:`~coarse_mip.search.tree.tree_search`.
    Returns (best menu, its value, a valid upper bound on every menu of at most K columns,
    figures). Without a deadline or node limit the search is complete and the bound equals the value.
    """
    m = P.shape[1]
    best = Incumbent(P, w, menu)
    iters = [root_iter]
    tops = node_tops(P)

    def expand(node):
        inside, outside, mu = node
        value = best.value
        bound, mu, rho, top = lagrangian_node_bound(P, w, K, inside, outside, mu, value, iters[0], deadline,
                                                    block=block_rows, tops=tops)
        iters[0] = node_iter
        candidate = np.flatnonzero(inside | top)
        if candidate.size and best.offer(candidate):                                  # (B13)
            value = best.value
        tol = gap_tol * max(1.0, abs(value))
        if bound <= value + tol:
            return None
        free = ~(inside | outside)
        others = np.where(free & ~top, rho, -np.inf)
        nxt = others.max() if others.size else -np.inf
        kth = rho[top].min() if top.any() else np.inf
        # (B12) penalty tests: dropping a top column for the next best, or swapping a
        # non-top column in for the weakest top one, must still beat the incumbent.
        # ``dropped``: the node's bound once a top column is out and the next free one takes its place.
        dropped = bound - rho + max(nxt, 0.0)
        outside = outside | (free & ~top & (bound - kth + rho <= value + tol))
        must = top & (dropped <= value + tol)
        inside = inside | must
        top = top & ~must
        k_free = K - int(inside.sum())
        if k_free <= 0 or int((~(inside | outside)).sum()) <= k_free:
            # The node's menu is decided: the forced columns, plus every free one if they fit.
            best.offer(np.flatnonzero(inside if k_free <= 0 else ~outside))
            return []
        t = int(np.flatnonzero(top)[np.argmax(rho[top])])
        out_child, in_child = outside.copy(), inside.copy()
        out_child[t] = in_child[t] = True
        # Explored first: the dive that forces the strongest column in. The out-child inherits
        # the same multipliers' bound without t (B11).
        return [((inside, out_child, mu), dropped[t]), ((in_child, outside, mu), bound)]

    root = (np.zeros(m, bool), np.zeros(m, bool), np.asarray(mu, dtype=np.float64))
    max_open = max(64, OPEN_NODE_BYTES // (8 * P.shape[0]))
    bound, figures = tree_search(root, expand, best, order=order, max_open=max_open, deadline=deadline,
                                 gap_tol=gap_tol, max_nodes=max_nodes, progress=progress)
    return best.menu, best.value, bound, figures


def lp_branch_and_bound(P: np.ndarray, w: np.ndarray, K: int, menu: np.ndarray, lp: BendersLP,
                        *, allowed: np.ndarray | None = None, deadline: float | None = None,
                        gap_tol: float = 1e-9, max_rounds: int = 50, strong: int = 4, strong_iter: int = 100,
                        order: str = "best",
                        descent_share: float = 0.25, max_nodes: int | None = None,
                        progress: bool = False) -> tuple[np.ndarray, float, float, dict]:
    """Branch and bound whose node bound is the node's LP (B16), solved by cut rounds on the
    master of ``lp`` (the :class:`~coarse_mip.bounds.BendersLP` of ``P``, holding the root's
    cuts; new cuts are valid everywhere and stay). ``allowed`` (m,) bool marks the columns not
    fixed out at the root (B10).

    The cuts with a zero dual at the root's LP are deleted first (the root's value stays, the
    node LPs get faster). Branching (B19): the ``strong`` most fractional free columns are each
    fixed out and in and the master LP re-solved on the cuts so far, for at most ``strong_iter``
    simplex iterations; a side whose solved LP does not beat the incumbent is fixed the other
    way for the whole subtree, and the column whose two LP values fall furthest (the product of
    the falls) is branched on, each child keeping its own LP value as its bound when that LP was
    solved. ``strong=0``: the largest fractional y_t, forced in first.
    ``order`` and ``max_nodes``: of :func:`~coarse_mip.search.tree.tree_search`. Incumbents: each node LP's
    rounding (B9), and a swap descent from it while descents have taken at most
    ``descent_share`` of the search's time.

    Same contract as :func:`branch_and_bound`.
    """
    m = P.shape[1]
    master, groups, sums = lp.master, lp.groups, lp.sums
    best = Incumbent(P, w, menu)
    counts = {"bb_lp_rounds": 0, "bb_strong_lps": 0, "bb_descents": 0, "bb_descent_s": 0.0,
              "benders_cuts_purged": master.purge()}
    started = time.perf_counter()

    def tol():
        return gap_tol * max(1.0, abs(best.value))

    def node_lp(lo, hi):
        """(z, y, reduced costs) of the node's LP after cut rounds; z bounds the node."""
        master.set_y_bounds(lo, hi)
        z = np.inf
        for _ in range(max_rounds):
            z, y, theta, rc = master.solve(deadline)
            counts["bb_lp_rounds"] += 1
            if master.last.termination != "optimal" or z <= best.value + tol():
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break                                        # z is still a valid bound
            best.offer(np.argpartition(-y, K - 1)[:K])
            cuts = separate(P, w, y, groups, sums.G, sums, lp.top, deadline=deadline)
            if cuts is None:
                break                                        # past the deadline: z is still a valid bound
            C, d, _, _ = cuts
            cut = np.flatnonzero(theta > d + C @ y + 1e-9 * max(1.0, abs(z)))
            if cut.size == 0:
                break                                        # the node LP is solved
            master.add_cuts(cut, C[cut], d[cut])
        return z, y, rc

    def descend(y):
        """A swap descent from the rounding of ``y``, within the time share."""
        now = time.perf_counter()
        if counts["bb_descent_s"] > descent_share * (now - started):
            return
        best.offer(swap_search(P, w, np.argpartition(-y, K - 1)[:K], deadline=deadline)[0])
        counts["bb_descents"] += 1
        counts["bb_descent_s"] += time.perf_counter() - now

    def expand(node):
        lo, hi = (b.astype(np.float64) for b in node)
        z, y, rc = node_lp(lo, hi)
        if not z > best.value + tol():
            return None
        descend(y)
        value = best.value
        if not z > value + tol():
            return None
        # (B10) at the node: reduced costs fix columns for the subtree.
        hi[(y <= 1e-9) & (z + rc < value - tol())] = 0.0
        lo[(y >= 1 - 1e-9) & (z - rc < value - tol())] = 1.0
        frac = np.minimum(y - lo, hi - y)
        fractional = np.flatnonzero(frac > 1e-9)
        if fractional.size == 0:         # integral but the cut rounds ran out: branch on a chosen column
            free_in = np.flatnonzero((y > 0.5) & (lo < 0.5))
            if free_in.size == 0:
                return []                                    # fully decided: evaluated above
            t, z_out, z_in = int(free_in[0]), z, z
        elif strong <= 0:
            t = int(fractional[np.argmax(y[fractional])])
            z_out = z_in = z
        else:
            candidates = fractional[np.argsort(-frac[fractional], kind="stable")][:strong]
            master.set_y_bounds(lo, hi)                      # with the reduced-cost fixings
            t, z_out, z_in = _strong_branch(master, candidates, z, lo, hi, value + tol(), deadline, strong_iter,
                                            counts)
            if t is None:
                return None                                  # both sides of a column are beaten
            if t < 0:
                return _feasible([((lo, hi), z)], K)         # only fixings: the node again, tighter
        hi_out, lo_in = hi.copy(), lo.copy()
        hi_out[t], lo_in[t] = 0.0, 1.0
        children = [((lo, hi_out), z_out), ((lo_in, hi), z_in)]
        if z_out > z_in:
            children.reverse()                               # the larger bound is explored first
        return _feasible(children, K)

    root = (np.zeros(m, bool), np.ones(m, bool) if allowed is None else np.asarray(allowed, bool))
    bound, figures = tree_search(root, expand, best, order=order, deadline=deadline, gap_tol=gap_tol,
                                 max_nodes=max_nodes, max_open=max(64, OPEN_NODE_BYTES // (2 * m)),
                                 progress=progress)
    master.set_y_bounds(0.0, 1.0)
    figures.update(counts)
    return best.menu, best.value, bound, figures


def _strong_branch(master, candidates, z, lo, hi, floor, deadline, max_iter, counts):
    """(B19) strong branching over ``candidates`` at a node of LP value ``z`` whose fixings
    ``lo``, ``hi`` (m,) are set on ``master``: each side's LP on the cuts so far (a relaxation
    of that child), at most ``max_iter`` simplex iterations. Columns one of whose sides is
    proven not to beat ``floor`` are fixed the other way, in ``lo``, ``hi`` and on the master.

    Returns (column, bound of its out-child, bound of its in-child); column None when both
    sides of a candidate are beaten (the node is pruned), -1 when every candidate was fixed or
    the deadline came first (the node is to be solved again).
    """
    pick, best_score, z_out, z_in = -1, -np.inf, z, z
    for t in candidates:
        if deadline is not None and time.perf_counter() >= deadline:
            break
        estimates, bounds = [], []
        for side in (0.0, 1.0):
            master.set_y_bounds(side, side, t)
            estimate, bound = master.probe(deadline, max_iter)
            estimates.append(z if np.isnan(estimate) else min(estimate, z))
            bounds.append(min(bound, z))
        counts["bb_strong_lps"] += 2
        (out, into), (bound_out, bound_in) = estimates, bounds
        if bound_out <= floor and bound_in <= floor:
            return None, z, z
        if bound_out <= floor:
            lo[t] = 1.0
        elif bound_in <= floor:
            hi[t] = 0.0
        master.set_y_bounds(lo[t], hi[t], t)
        if bound_out <= floor or bound_in <= floor:
            continue
        score = max(z - out, 1e-12) * max(z - into, 1e-12)
        if score > best_score:
            pick, best_score, z_out, z_in = int(t), score, bound_out, bound_in
    return pick, z_out, z_in


def _feasible(children, K):
    """Children (((lo, hi), bound) pairs) whose bounds leave room for a menu of K columns, as bool fixings."""
    return [((lo > 0.5, hi > 0.5), b) for (lo, hi), b in children if lo.sum() <= K <= hi.sum()]
