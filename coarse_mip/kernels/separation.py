"""Benders separation of the radius model in closed form (formulations/benders.md, B2-B5).

For a master point ``y`` (m,) every row's LP is solved by filling its columns by decreasing
profit up to a total y of 1; its level ``V_i`` gives the cut

    theta_i <= V_i + sum_t (P_it - V_i)^+ y_t                                          (B3)

summed over the rows of a group (B4).
"""

from __future__ import annotations

import numpy as np

from .. import rows

__all__ = ["row_groups", "separate"]


def row_groups(P: np.ndarray, menu: np.ndarray, max_groups: int) -> tuple[np.ndarray, int]:
    """Group rows for aggregated cuts (B4): by best column overall and best column on ``menu``.

    Rows in a group have similar curves, so their summed cut stays close to their separate
    cuts. Groups beyond ``max_groups`` are folded together (by modulo). Returns (ids (n,), G).
    """
    m = P.shape[1]
    key, = rows.map_reduce(P, lambda s, b: (b.argmax(axis=1) * m + menu[b[:, menu].argmax(axis=1)],), ("concat",))
    _, ids = np.unique(key, return_inverse=True)
    ids = ids.ravel() % max_groups
    return ids, int(ids.max()) + 1


def separate(P: np.ndarray, w: np.ndarray, y: np.ndarray, groups: np.ndarray, G: int,
             sums: rows.GroupSums | None = None) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Cuts (B3) of every row at the master point ``y`` (m,), summed per group (B4).

    ``sums``: :func:`coarse_mip.rows.group_sums` of (P, w, groups, G), when the caller
    separates repeatedly. Returns (C (G, m), d (G,), value, V (n,)) with group cut
    ``theta_g <= d_g + C_g . y`` and ``value`` = sum_i w_i f_i(y), the LP value of ``y`` (B5).
    """
    sums = rows.group_sums(P, w, groups, G) if sums is None else sums
    support = np.flatnonzero(y > 1e-12)
    integral = bool((y[support] >= 1.0 - 1e-9).all())
    ys = y[support]

    def block_cuts(s, b):
        sub = b[:, support]
        if integral:                 # the best chosen column alone fills the row
            V = sub.max(axis=1)
        else:
            order = np.argsort(-sub, axis=1, kind="stable")
            filled = np.cumsum(ys[order], axis=1)
            # sum(y) = K >= 1, so every row fills up; 1e-9 absorbs LP round-off in y.
            at = np.argmax(filled >= 1.0 - 1e-9, axis=1)
            V = np.take_along_axis(sub, order[np.arange(sub.shape[0]), at][:, None], axis=1)[:, 0]
        return rows.weighted_excess(b, V, sums.block(s), out=rows.scratch(*b.shape)), V

    C, V = rows.map_reduce(P, block_cuts, ("sum", "concat"), rows=sums.rows)
    C = np.asarray(C)
    d = np.bincount(groups, weights=w * V, minlength=G)
    return C, d, float(d.sum() + C.sum(axis=0) @ y), V
