"""One depth-first tree search over menus, shared by every branch and bound.

A node is whatever its ``expand`` function understands (fixings, multipliers, bounds); the
search only keeps the stack, prunes on the bound a node inherited from its parent, stops at
the deadline and reports the bound that the open nodes still allow.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .._progress import counter
from ..kernels import Incumbent

__all__ = ["depth_first"]


def depth_first(root, expand: Callable, incumbent: Incumbent, *, deadline: float | None = None,
                gap_tol: float = 1e-9, max_nodes: int | None = None, progress: bool = False) -> tuple[float, dict]:
    """Explore from ``root`` until every node is pruned, decided or the deadline passes.

    ``expand(node)`` evaluates a node (offering the menus it finds to ``incumbent``) and
    returns its children as ``(child, bound)`` pairs, the last explored first; ``[]`` when
    the node is decided, ``None`` when its bound prunes it. A node whose inherited bound is at
    most the incumbent's value (within ``gap_tol``, relative) is pruned unexpanded.

    Returns (a valid upper bound on every menu of the tree, figures). Without a deadline (or
    ``max_nodes``) the search is complete and the bound is the incumbent's value. ``progress``:
    a bar of the nodes with the incumbent and the open nodes' bound (on a terminal).
    """
    stack = [(root, np.inf)]
    bar = counter(desc="branch and bound", enabled=progress)
    try:
        nodes, pruned, timed_out = _search(stack, expand, incumbent, deadline, gap_tol, max_nodes, bar)
    finally:
        bar.close()
    open_bound = max((bound for _, bound in stack), default=-np.inf)
    bound = incumbent.value if not timed_out else max(incumbent.value, open_bound)
    return bound, {"bb_nodes": nodes, "bb_pruned": pruned, "bb_open": len(stack), "bb_complete": not timed_out}


def _search(stack, expand, incumbent, deadline, gap_tol, max_nodes, bar) -> tuple[int, int, bool]:
    """The loop of :func:`depth_first` (``stack`` is left with the open nodes)."""
    nodes = pruned = 0
    timed_out = False
    while stack:
        if (deadline is not None and time.perf_counter() >= deadline) or (max_nodes is not None and nodes >= max_nodes):
            timed_out = True
            break
        node, parent = stack.pop()
        value = incumbent.value
        if np.isfinite(value) and parent <= value + gap_tol * max(1.0, abs(value)):
            pruned += 1
            continue
        nodes += 1
        if bar.live and nodes % 100 == 0:
            bar.update(100)
            open_bound = max((b for _, b in stack), default=-np.inf)
            bar.set_postfix_str(f"incumbent {incumbent.value:.8g}, open bound {open_bound:.8g}, {len(stack)} open")
        children = expand(node)
        if children is None:
            pruned += 1
            continue
        stack.extend(children)
    return nodes, pruned, timed_out
