"""Elloumi's radius formulation in profit form, aggregated and chained.

See ``formulations/radius.md``. Each row i sorts its profits in decreasing order; each
distinct profit level ``V_i^k`` defines the set ``S_i^k = {t : P_it >= V_i^k}`` and a variable
``s = 1`` iff some chosen column reaches that level. Symbols (code -> API):

==========  ======================  ============================================
symbol      code                    meaning
==========  ======================  ============================================
P[i, t]     ``P``                   profits of (reduced) row i under column t
w_i         ``w``                   row weights
y_t         ``model.y[t]``          1 if column t is on the menu
s_j         ``model.s[j]``          node j (a distinct set S_j) is reached
c_j         ``RadiusNodes.coef``    summed weighted level steps of node j   (R6)
pi(j)       ``RadiusNodes.parent``  the node of the next-higher level        (R7)
==========  ======================  ============================================

(R1) objective  max  sum_i w_i V_i^{L_i}  +  sum_j c_j s_j
(R8) link[j]    s_j <= s_pi(j) + sum_{t in S_j minus S_pi(j)} y_t
(R4) card       sum_t y_t = K
(R5) domains    y binary, 0 <= s <= 1

Reductions inside the formulation: truncation at the level holding each row's (m-K+1)-th
best entry (R3) and aggregation of identical sets across rows and levels (R6).
Size: J + m columns, J + 1 rows, at most sum_j (|S_j minus S_pi(j)| + 2) nonzeros, where
J <= n (m - K) is the number of distinct sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from .. import rows
from ..reductions import first_occurrence

__all__ = ["RadiusNodes", "radius_nodes", "build_model", "start_values"]


@dataclass(frozen=True)
class RadiusNodes:
    """Arrays defining the aggregated radius model (J nodes).

    constant : float                 sum_i w_i V_i^{L_i}, the guaranteed part (R3)
    coef : (J,) float                objective coefficient of each node, > 0 (R6)
    parent : (J,) int                parent node, -1 for a top-level set (R7)
    new_ptr, new_cols : CSR (J+1,), (nnz,)   columns in S_j but not in S_pi(j)
    row, last : (J,) int             a row and position (in its sorted order) defining S_j
    occurrences : int                (row, level) pairs before aggregation
    """

    constant: float
    coef: np.ndarray
    parent: np.ndarray
    new_ptr: np.ndarray
    new_cols: np.ndarray
    row: np.ndarray
    last: np.ndarray
    occurrences: int

    @property
    def J(self) -> int:
        return self.coef.shape[0]


def radius_nodes(P: np.ndarray, w: np.ndarray, K: int, *, block_rows: int | None = None) -> RadiusNodes:
    """Compute the nodes of the aggregated chained radius model for ``P`` (n, m), ``w`` (n,).

    Assumes validated input, ``w > 0`` and ``1 <= K < m``. Rows are processed in blocks:
    each block's level sets are keyed by exact bitmasks (``ceil(m / 64)`` words) and
    deduplicated with a hash table (``pandas.factorize``), then the blocks' distinct sets are
    merged. Time O(n m log m), memory O(block_rows m ceil(m/64) + distinct sets); blocks follow
    the row layer's rule unless ``block_rows`` is given.
    """
    n, m = P.shape
    T = m - K + 1                                        # any T columns hold a chosen one (R3)
    if block_rows is None:                               # bitmask keys, sort order and steps per row
        block_rows = rows.block_rows(8 * ((T - 1) * -(-m // 64) + 3 * m))
    parts = []
    constant = 0.0
    occurrences = 0
    for lo in range(0, n, block_rows):
        c, occ, part = _block_nodes(P[lo:lo + block_rows], w[lo:lo + block_rows], T, lo)
        constant += c
        occurrences += occ
        if part is not None:
            parts.append(part)
    if not parts:
        empty = np.zeros(0, dtype=np.intp)
        return RadiusNodes(constant, np.zeros(0), empty, np.zeros(1, np.intp), empty, empty, empty, 0)

    # Merge the blocks: one global code per distinct set, first block's representative kept.
    keys = np.concatenate([p["keys"] for p in parts])
    code = _factorize_rows(keys)
    offsets = np.cumsum([0] + [p["keys"].shape[0] for p in parts])[:-1]
    parent_local = np.concatenate([np.where(p["parent"] >= 0, p["parent"] + off, -1)
                                   for p, off in zip(parts, offsets, strict=True)])
    row = np.concatenate([p["row"] for p in parts])
    last = np.concatenate([p["last"] for p in parts])
    parent_last = np.concatenate([p["parent_last"] for p in parts])
    coef_local = np.concatenate([p["coef"] for p in parts])
    J = int(code.max()) + 1
    coef = np.bincount(code, weights=coef_local, minlength=J)                       # (R6)
    first = first_occurrence(code)
    parent = np.where(parent_local[first] >= 0, code[np.maximum(parent_local[first], 0)], -1)  # (R7)
    row, last, start = row[first], last[first], parent_last[first] + 1

    # Columns new to each set: positions start..last of its row's sorted order.
    order = np.argsort(-P[row], axis=1, kind="stable")
    lengths = last + 1 - start
    new_ptr = np.concatenate([[0], np.cumsum(lengths)])
    node_of = np.repeat(np.arange(J), lengths)
    offset = np.arange(new_ptr[-1]) - new_ptr[node_of]
    new_cols = order[node_of, start[node_of] + offset]
    return RadiusNodes(constant, coef, parent, new_ptr, new_cols, row, last, occurrences)


def _block_nodes(P: np.ndarray, w: np.ndarray, T: int, row0: int):
    """Distinct level sets of one block of rows: (constant part, occurrences, arrays or None)."""
    n, m = P.shape
    order = np.argsort(-P, axis=1, kind="stable")
    sP = np.take_along_axis(P, order, axis=1)
    constant = float(w @ sP[:, T - 1])
    step = sP[:, : T - 1] - sP[:, 1:T]                   # (n, T-1) level steps, >= 0
    rows, last = np.nonzero(step > 0)                    # level ends above the truncation
    if rows.size == 0:
        return constant, 0, None
    W = -(-m // 64)
    prefix = order[:, : T - 1]
    bits = np.zeros((n, T - 1, W), dtype=np.uint64)
    word = prefix // 64
    one = np.uint64(1)
    for k in range(W):
        bits[:, :, k] = np.where(word == k, one << (prefix % 64).astype(np.uint64), np.uint64(0))
    np.bitwise_or.accumulate(bits, axis=1, out=bits)    # key of S_i^k: bitmask of the prefix
    keys = bits[rows, last]
    code = _factorize_rows(keys)
    first = first_occurrence(code)
    # Parent of an occurrence: the previous level end in the same row (row-major order).
    prev = np.arange(rows.size) - 1
    prev[0] = -1
    prev[1:][rows[1:] != rows[:-1]] = -1
    p = prev[first]
    part = {"keys": keys[first],
            "coef": np.bincount(code, weights=w[rows] * step[rows, last], minlength=first.size),
            "parent": np.where(p >= 0, code[np.maximum(p, 0)], -1),
            "parent_last": np.where(p >= 0, last[np.maximum(p, 0)], -1),
            "row": rows[first] + row0, "last": last[first]}
    return constant, rows.size, part


def _factorize_rows(keys: np.ndarray) -> np.ndarray:
    """Exact codes 0..U-1 (numbered by first appearance) of the rows of ``keys`` (N, W)."""
    code = pd.factorize(keys[:, 0])[0]
    for k in range(1, keys.shape[1]):
        word, uniq = pd.factorize(keys[:, k])
        code = pd.factorize(code * len(uniq) + word)[0]   # < N^2 distinct pairs: fits int64
    return code


def build_model(nodes: RadiusNodes, m: int, K: int, relax: bool = False) -> pyo.ConcreteModel:
    """Pyomo model (R1), (R4), (R5), (R8) from precomputed ``nodes`` over ``m`` columns.

    ``relax=True`` gives the LP relaxation (0 <= y <= 1), whose value is the strong LP bound.
    """
    model = pyo.ConcreteModel(name="coarse_mip_radius")
    model.T = pyo.RangeSet(0, m - 1)
    model.N = pyo.RangeSet(0, nodes.J - 1)
    model.y = pyo.Var(model.T, domain=pyo.UnitInterval if relax else pyo.Binary)   # (R5)
    model.s = pyo.Var(model.N, bounds=(0.0, 1.0))                      # (R5)
    y = [model.y[t] for t in range(m)]
    s = [model.s[j] for j in range(nodes.J)]
    coef = nodes.coef.tolist()
    model.objective = pyo.Objective(                                   # (R1)
        expr=nodes.constant + pyo.quicksum(c * v for c, v in zip(coef, s, strict=True)), sense=pyo.maximize)
    ptr, cols, parent = nodes.new_ptr.tolist(), nodes.new_cols.tolist(), nodes.parent.tolist()

    def link(_, j):                                                    # (R8)
        reach = pyo.quicksum(y[t] for t in cols[ptr[j]:ptr[j + 1]])
        if parent[j] >= 0:
            reach = reach + s[parent[j]]
        return s[j] - reach <= 0

    model.link = pyo.Constraint(model.N, rule=link)
    model.card = pyo.Constraint(expr=pyo.quicksum(y) == K)              # (R4)
    return model


def start_values(model: pyo.ConcreteModel, nodes: RadiusNodes, P: np.ndarray, menu: np.ndarray) -> list:
    """MIP start for ``menu``: the variables at 1 (y on the menu, s_j iff a menu column is in S_j)."""
    # S_j is the first last_j + 1 columns of row_j's order, so s_j = [best menu rank <= last_j].
    sub = P[nodes.row]
    order = np.argsort(-sub, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(P.shape[1])[None, :], axis=1)
    reached = rank[:, menu].min(axis=1) <= nodes.last
    return [model.y[int(t)] for t in menu] + [model.s[int(j)] for j in np.flatnonzero(reached)]
