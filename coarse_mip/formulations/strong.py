"""Classical strong p-median formulation (ReVelle & Swain 1970), profit form.

See ``formulations/strong.md``. Symbols (code -> API):

========  =====================  =========================================
symbol    code                   meaning
========  =====================  =========================================
P[i, t]   ``P``                  profits of (reduced) row i under column t
w_i       ``w``                  row weights
y_t       ``model.y[t]``         1 if column t is on the menu
x_it      ``model.x[i, t]``      share of row i assigned to column t
========  =====================  =========================================

(S1) objective   max  sum_{i,t} w_i P_it x_it
(S2) assign[i]   sum_t x_it = 1
(S3) link[i, t]  x_it <= y_t
(S4) card        sum_t y_t = K
(S5) domains     y binary, 0 <= x <= 1

Size: n*m + m columns, n*m + n + 1 rows, 3*n*m + m nonzeros. The reference for small
instances; its LP bound equals the radius formulation's.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

__all__ = ["build_model", "start_values"]


def build_model(P: np.ndarray, w: np.ndarray, K: int) -> pyo.ConcreteModel:
    """Strong model for profits ``P`` (n, m), weights ``w`` (n,), exactly ``K < m`` columns."""
    n, m = P.shape
    model = pyo.ConcreteModel(name="coarse_mip_strong")
    model.I = pyo.RangeSet(0, n - 1)
    model.T = pyo.RangeSet(0, m - 1)
    model.y = pyo.Var(model.T, domain=pyo.Binary)                     # (S5)
    model.x = pyo.Var(model.I, model.T, bounds=(0.0, 1.0))             # (S5)
    wp = (w[:, None] * P).tolist()
    model.objective = pyo.Objective(                                   # (S1)
        expr=pyo.quicksum(wp[i][t] * model.x[i, t] for i in range(n) for t in range(m)),
        sense=pyo.maximize)
    model.assign = pyo.Constraint(                                     # (S2)
        model.I, rule=lambda mdl, i: pyo.quicksum(mdl.x[i, t] for t in mdl.T) == 1)
    model.link = pyo.Constraint(                                       # (S3)
        model.I, model.T, rule=lambda mdl, i, t: mdl.x[i, t] - mdl.y[t] <= 0)
    model.card = pyo.Constraint(expr=pyo.quicksum(model.y[t] for t in model.T) == K)  # (S4)
    return model


def start_values(model: pyo.ConcreteModel, P: np.ndarray, menu: np.ndarray) -> list:
    """MIP start for ``menu``: the variables at 1 (y on the menu, x on each row's best)."""
    a = menu[np.argmax(P[:, menu], axis=1)]
    return [model.y[int(t)] for t in menu] + [model.x[i, int(t)] for i, t in enumerate(a)]
