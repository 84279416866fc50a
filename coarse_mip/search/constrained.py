"""Searches over menus under side constraints (formulations/constrained.md): every menu valued
by the transport step (:class:`~coarse_mip.kernels.MenuValues`).

* :func:`enumerate_constrained` -- every menu (the oracle of the tests);
* :func:`constrained_branch_and_bound` -- the depth-first tree search with the knapsack
  Lagrangian bound (L2) at every node, its Lagrangian menus evaluated exactly;
* :func:`constrained_swaps` -- a swap descent whose candidates are ranked by the Lagrangian
  column values and valued exactly;
* :func:`constrained_lloyd` -- the paper's alternation with the transport step as its
  assignment step.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np

from ..bounds.knapsack import KnapsackBound
from ..kernels import MenuValues, transport
from ..reductions import Grouped
from .greedy import greedy_menu
from .swap import swap_search
from .tree import tree_search

__all__ = ["constrained_branch_and_bound", "constrained_lloyd", "constrained_swaps", "enumerate_constrained",
           "lagrangian_search", "unconstrained_start"]

#: Most menus :func:`enumerate_constrained` values.
MAX_MENUS = 200_000


def lagrangian_search(data: Grouped, values: MenuValues, *, deadline: float | None = None, iters: int = 300,
                      candidates: int = 5, offer_menus: bool = True) -> tuple[KnapsackBound, tuple, dict]:
    """The root of every constrained engine: the Lagrangian bound (L2) by subgradient steps,
    whose Lagrangian menus are valued exactly as they appear (the Lagrangian heuristic), then
    swaps from the best of them ranked by the final column values. Returns (the bounder,
    its root result (L, mu, beta, menu, worth), figures)."""
    t0 = time.perf_counter()
    bounder = KnapsackBound(data, values, offer_menus=offer_menus, deadline=deadline)
    if offer_menus:
        values.offer(unconstrained_start(data))
    mu, beta = _warm_multipliers(data, values, bounder)
    root = bounder.bound(data.required.copy(), np.zeros(data.k, dtype=bool), mu, beta, iters)
    swaps = constrained_swaps(data, values, root[4], candidates=candidates, deadline=deadline) if offer_menus else 0
    return bounder, root, {"lagrangian_bound": root[0], "lagrangian_evaluations": bounder.evaluations,
                           "knapsacks": bounder.how, "swap_improvements": swaps,
                           "root_s": time.perf_counter() - t0}


def unconstrained_start(data: Grouped) -> np.ndarray:
    """A first menu: the required columns, then greedy (and swaps when nothing is required) on
    the profits as if unconstrained, ineligible entries priced below every row's worst."""
    P = data.P
    if data.eligible is not None:
        P = np.where(data.eligible, P, P.min(axis=1, keepdims=True) - 1.0)
    w = data.w * data.counts
    room = max(1, min(data.K, data.k))
    if w.sum() <= 0:
        w = data.counts
    req = np.flatnonzero(data.required)
    menu = greedy_menu(P, w, room, start=req if req.size else None)
    if not req.size and 1 < menu.size < data.k:
        menu, _ = swap_search(P, w, menu)
    mask = np.zeros(data.k, dtype=bool)
    mask[menu] = True
    mask[req] = True
    return mask


def _warm_multipliers(data: Grouped, values: MenuValues, bounder: KnapsackBound) -> tuple[np.ndarray, float]:
    """(L1) multipliers from the LP duals of the best menu's transport step: its assignment rows'
    prices and the budget's price (the bound at them is that menu's LP value plus what other
    columns could add). The bounder's own start when there is no such menu."""
    if values.menu is None:
        return bounder.initial()
    lp = transport(data, np.flatnonzero(values.menu), exact=False)
    if lp.duals is None:
        return bounder.initial()
    return lp.duals["assign"].copy(), float(lp.duals["budget"])


def enumerate_constrained(data: Grouped, values: MenuValues) -> None:
    """Value every menu (required columns in, at most K, at least one column); the best is
    left in ``values``."""
    req = np.flatnonzero(data.required)
    free = np.flatnonzero(~data.required)
    room = data.K - req.size
    count = sum(math.comb(free.size, r) for r in range(0, min(room, free.size) + 1))
    if count > MAX_MENUS:
        raise ValueError(f"enumeration too large: {count} menus > {MAX_MENUS}; use method='exact'")
    for r in range(0, min(room, free.size) + 1):
        for extra in itertools.combinations(free, r):
            mask = np.zeros(data.k, dtype=bool)
            mask[req] = True
            mask[list(extra)] = True
            if mask.any():
                values.offer(mask, exact=True)


def constrained_branch_and_bound(data: Grouped, bounder: KnapsackBound, values: MenuValues, mu: np.ndarray,
                                 beta: float, *, deadline: float | None = None, gap_tol: float = 1e-9,
                                 root_iter: int = 300, node_iter: int = 30,
                                 max_nodes: int | None = None, progress: bool = False) -> tuple[float, dict]:
    """Branch on treatments (in / out) with the bound (L2) at every node, from multipliers
    (mu, beta). Each node's Lagrangian menu is valued (loosely) in ``values``; penalty tests
    (L5) fix treatments in or out for the subtree; with integral profits a bound is rounded
    down (L6). A decided node's menu is valued exactly and its upper bound kept. Returns (a
    valid upper bound on every feasible menu, figures); without a deadline the search is
    complete (``max_nodes`` stops it like a deadline)."""
    k = data.k
    iters = [root_iter]
    leaves = [-np.inf]               # the largest upper bound of a menu a decided node left behind
    fixed = [0]
    integral = _integral_objective(data)
    offer = bounder.offer_menus
    bounder.offer_menus = False      # inside the tree only each node's best menu is valued

    def decide(mask):
        leaves[0] = max(leaves[0], values.upper_of(mask))

    def expand(node):
        inside, outside, mu, beta = node
        L, mu, beta, menu, worth = bounder.bound(inside, outside, mu, beta, iters[0])
        iters[0] = node_iter
        if menu.any():
            values.offer(menu)
        # (L6) the node's bound rounded down; the penalty tests work from the raw L (each child's
        # bound is rounded on its own).
        rounded = np.floor(L + 1e-6) if integral else L
        tol = gap_tol * max(1.0, abs(values.value)) if np.isfinite(values.value) else 0.0
        if rounded <= values.value + tol:
            return None
        free = ~(inside | outside)
        room = data.K - int(inside.sum())
        if room > 0 and np.isfinite(values.value):                  # (L5) penalty tests
            inside, outside = _penalties(L, menu, worth, inside, outside, room, values.value + tol, integral)
            fixed[0] += int((~(inside | outside)).sum() < free.sum())
            free = ~(inside | outside)
            room = data.K - int(inside.sum())
        if room <= 0 or not free.any():
            decide(inside)                                           # the node holds one menu
            return []
        if data.monotone and int(free.sum()) <= room:
            decide(inside | free)                                    # more columns never hurt: take them all
            return []
        pick = menu & free
        pool = np.flatnonzero(pick) if pick.any() else np.flatnonzero(free)
        t = int(pool[np.argmax(worth[pool])])
        out_child, in_child = outside.copy(), inside.copy()
        out_child[t] = in_child[t] = True
        return [((inside, out_child, mu, beta), rounded), ((in_child, outside, mu, beta), rounded)]

    root = (data.required.copy(), np.zeros(k, dtype=bool), mu, beta)
    # Depth first: best first was no faster on pmedcap01-20 (240.8 s against 232.3 s in all, the
    # same 19 proven; both children inherit the same bound here).
    bound, figures = tree_search(root, expand, _ValueView(values), order="depth", deadline=deadline,
                                 gap_tol=gap_tol, max_nodes=max_nodes, progress=progress)
    bounder.offer_menus = offer
    figures.update(menus_solved=values.solved, bb_nodes_with_fixings=fixed[0])
    return max(bound, leaves[0]), figures


def _integral_objective(data: Grouped) -> bool:
    """Every feasible objective is an integer (integral weighted profits and fixed costs)."""
    wp = data.w[:, None] * data.P
    return bool(np.all(wp == np.round(wp)) and np.all(data.fixed == np.round(data.fixed)))


def _penalties(L, menu, worth, inside, outside, room, floor, integral):
    """(L5) with the node's multipliers: forcing a free column t in (out) changes L by its worth
    against the weakest (next) column of the Lagrangian menu; a child whose bound cannot beat
    ``floor`` is closed by fixing t the other way."""
    free = ~(inside | outside)
    top = menu & free
    chosen = np.flatnonzero(top)
    others = np.flatnonzero(free & ~top)
    binding = chosen.size == room or (not inside.any() and chosen.size == 1 and worth[chosen[0]] <= 0)
    kth = worth[chosen].min() if chosen.size else 0.0
    nxt = worth[others].max() if others.size else -np.inf
    lone = not inside.any() and chosen.size == 1

    def cannot(bound):
        return (np.floor(bound + 1e-6) if integral else bound) <= floor

    outside = outside.copy()
    inside = inside.copy()
    for t in others:
        if cannot(L + worth[t] - (kth if binding else 0.0)):
            outside[t] = True
    for t in chosen:
        gain = nxt if lone else max(nxt, 0.0)
        if cannot(L - worth[t] + (gain if np.isfinite(gain) else -np.inf)):
            inside[t] = True
    return inside, outside


class _ValueView:
    """The ``value`` the tree search prunes against (-inf until a feasible menu is known)."""

    def __init__(self, values: MenuValues):
        self._values = values

    @property
    def value(self) -> float:
        return self._values.value


def constrained_swaps(data: Grouped, values: MenuValues, worth: np.ndarray, *, candidates: int = 5,
                      deadline: float | None = None, max_rounds: int = 50) -> int:
    """First-improvement swaps (and drops, adds) from ``values.menu``: each slot is tried with the
    ``candidates`` best outside columns by ``worth`` (the Lagrangian KP_t - f_t); every trial is
    valued exactly. Returns the number of improvements."""
    if values.menu is None:
        return 0
    order = np.argsort(-np.where(np.isfinite(worth), worth, -np.inf), kind="stable")
    improved = 0
    for _ in range(max_rounds):
        current = values.menu
        outside = [t for t in order if not current[t]][:candidates]
        trials = []
        for r in np.flatnonzero(current & ~data.required):
            trials.append(_with(current, drop=r))
            trials += [_with(current, drop=r, add=u) for u in outside]
        if int(current.sum()) < data.K:
            trials += [_with(current, add=u) for u in outside]
        better = False
        for mask in trials:
            if deadline is not None and time.perf_counter() >= deadline:
                return improved
            if values.offer(mask):
                improved, better = improved + 1, True
                break
        if not better:
            break
    return improved


def _feasible_subset(d: Grouped, values: MenuValues, mask: np.ndarray, total: np.ndarray) -> np.ndarray:
    """``mask`` if some assignment meets the constraints, else the first feasible menu met while
    dropping its lowest-total non-required columns one at a time (min loads can make a large
    menu infeasible); ``mask`` itself when none is."""
    trial = mask.copy()
    while values.of(trial) == -np.inf:
        droppable = np.flatnonzero(trial & ~d.required)
        if droppable.size <= 1 and not d.required.any():
            return mask
        if droppable.size == 0:
            return mask
        trial[droppable[np.argmin(total[droppable])]] = False
    return trial


def _with(mask: np.ndarray, drop: int | None = None, add: int | None = None) -> np.ndarray:
    out = mask.copy()
    if drop is not None:
        out[drop] = False
    if add is not None:
        out[add] = True
    return out


def constrained_lloyd(data: Grouped, values: MenuValues, rng: np.random.Generator, *, restarts: int = 10,
                      max_iter: int = 100, deadline: float | None = None) -> dict:
    """The paper's alternation under constraints: assign by the transport step; move each
    segment's treatment to the column with the largest total profit over the segment (among
    those all its members may receive; required treatments stay); repeat until the menu
    stops changing. Starts: the required treatments plus columns drawn with probability
    proportional to their positive total profit."""
    d = data
    ok = np.ones(d.P.shape, dtype=bool) if d.eligible is None else d.eligible
    total = (d.w * d.counts) @ np.where(ok, d.P, 0.0)
    size = min(d.K, d.k)
    iterations = []
    for _ in range(restarts):
        if deadline is not None and time.perf_counter() >= deadline:
            break
        mask = d.required.copy()
        pool = np.flatnonzero(~mask)
        extra = size - int(mask.sum())
        if extra > 0 and pool.size:
            p = np.maximum(total[pool] - total[pool].min(), 0.0) + 1e-12
            mask[rng.choice(pool, size=min(extra, pool.size), replace=False, p=p / p.sum())] = True
        mask = _feasible_subset(d, values, mask, total)
        it = 0
        for it in range(1, max_iter + 1):
            values.offer(mask)
            x = values.counts(mask)
            if x is None:
                break
            slots = np.flatnonzero(mask)
            moved = d.required.copy()
            for j, t in enumerate(slots):
                members = x[:, j] > 0
                if d.required[t] or not members.any():
                    continue
                allowed = ok[members].all(axis=0)
                seg = (d.w[members] * x[members, j]) @ d.P[members]
                moved[int(np.argmax(np.where(allowed, seg, -np.inf)))] = True
            if np.array_equal(moved, mask) or not moved.any():
                break
            mask = moved
        iterations.append(it)
    return {"restarts": restarts, "iterations": iterations}
