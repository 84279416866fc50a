"""The Benders master problem of the radius model (formulations/benders.md, B6).

==========  ========================  =============================================
symbol      code                      meaning
==========  ========================  =============================================
y_t         ``model.y[t]``            1 if column t is on the menu (relaxed to [0, 1])
theta_g     ``model.theta[g]``        value of row group g, at most ``group_ub[g]``
==========  ========================  =============================================

(B6) objective  max  sum_g theta_g
     card       sum_t y_t = K
     domains    0 <= y <= 1, theta_g <= ub_g (the group's full-personalization value)

Cuts (B4) are not part of the model: the cut loop appends them to the solver's copy.
Size: m + G columns, 1 row, m nonzeros before cuts.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

__all__ = ["build_master"]


def build_master(m: int, K: int, group_ub: np.ndarray) -> pyo.ConcreteModel:
    """Master LP (B6) over ``m`` columns and ``group_ub.size`` row groups."""
    model = pyo.ConcreteModel(name="coarse_mip_benders_master")
    G = group_ub.size
    model.y = pyo.Var(range(m), bounds=(0.0, 1.0))
    model.theta = pyo.Var(range(G), bounds=lambda _, g: (None, float(group_ub[g])))
    model.obj = pyo.Objective(expr=pyo.quicksum(model.theta[g] for g in range(G)), sense=pyo.maximize)
    model.card = pyo.Constraint(expr=pyo.quicksum(model.y[t] for t in range(m)) == K)      # (B6)
    return model
