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
from ..kernels import Incumbent, separate
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

    def expand(node):
        inside, outside, mu = node
        value = best.value
        bound, mu, rho, top = lagrangian_node_bound(P, w, K, inside, outside, mu, value, iters[0], deadline,
                                                    block=block_rows)
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
                        gap_tol: float = 1e-9, max_rounds: int = 50,
                        progress: bool = False) -> tuple[np.ndarray, float, float, dict]:
    """Depth-first branch and bound whose node bound is the node's LP (B16), solved by cut
    rounds on the master of ``lp`` (the :class:`~coarse_mip.bounds.BendersLP` of ``P``,
    holding the root's cuts; new cuts are valid everywhere and stay). ``allowed`` (m,) bool
    marks the columns not fixed out at the root (B10).

    Same contract as :func:`branch_and_bound`.
    """
    m = P.shape[1]
    master, groups, sums = lp.master, lp.groups, lp.sums
    best = Incumbent(P, w, menu)
    rounds = [0]

    def expand(node):
        lo, hi = node
        value = best.value
        tol = gap_tol * max(1.0, abs(value))
        master.set_y_bounds(lo, hi)
        z = np.inf
        for _ in range(max_rounds):
            z, y, theta, rc = master.solve(deadline)
            rounds[0] += 1
            if master.last.termination != "optimal" or z <= value + tol:
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break                                        # z is still a valid bound
            if best.offer(np.argpartition(-y, K - 1)[:K]):
                value = best.value
                tol = gap_tol * max(1.0, abs(value))
            C, d, _, _ = separate(P, w, y, groups, sums.G, sums, lp.top)
            cut = np.flatnonzero(theta > d + C @ y + 1e-9 * max(1.0, abs(z)))
            if cut.size == 0:
                break                                        # the node LP is solved
            master.add_cuts(cut, C[cut], d[cut])
        if not z > value + tol:
            return None
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
                return []                                    # fully decided: evaluated above
            t = int(free_in[0])
        hi0, lo1 = hi.copy(), lo.copy()
        hi0[t], lo1[t] = 0.0, 1.0
        children = [((lo, hi0), z), ((lo1, hi), z)]
        return [(c, b) for c, b in children if c[0].sum() <= K <= c[1].sum()]

    root = (np.zeros(m), np.ones(m) if allowed is None else allowed.astype(np.float64))
    bound, figures = tree_search(root, expand, best, order="depth", deadline=deadline, gap_tol=gap_tol,
                                 progress=progress)
    master.set_y_bounds(np.zeros(m), np.ones(m))
    figures["bb_lp_rounds"] = rounds[0]
    return best.menu, best.value, bound, figures
