"""The assignment formulation under side constraints (formulations/constrained.md, C1-C8).

Groups g of ``counts_g`` identical individuals; x_gt members of g on treatment t (integer);
y_t = 1 if t is offered. Symbols (code -> API):

==========  ======================  ============================================
symbol      code                    meaning
==========  ======================  ============================================
P[g, t]     ``data.P``              profit of a member of group g under t
w_g, N_g    ``data.w``, ``counts``  weight of one member, number of members
u_g         ``data.usage``          capacity one member uses
x_gt        ``model.x[g, t]``       members of g assigned to t (eligible pairs only)
y_t         ``model.y[t]``          t is offered
==========  ======================  ============================================

(C1) objective  max  sum_{g,t} w_g P_gt x_gt - sum_t f_t y_t
(C2) assign[g]  sum_t x_gt = N_g
(C3) link[g,t]  x_gt <= N_g y_t
(C4) cap[t]     sum_g u_g x_gt <= hi_t y_t               (finite max loads)
(C5) floor[t]   sum_g u_g x_gt >= lo_t y_t               (positive min loads)
(C6) card       sum_t y_t <= K
(C7) budget     sum_{g,t} w_g c_gt x_gt <= budget
(C8) domains    x_gt integer in [0, N_g], y binary, y_t = 1 for required t

Size: one x per eligible (group, treatment) pair, k y's; G + pairs + O(k) rows.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ..reductions import Grouped

__all__ = ["build_model"]


def build_model(data: Grouped) -> pyo.ConcreteModel:
    """Pyomo model (C1)-(C8) of ``data`` over all its columns."""
    d = data
    ok = np.ones(d.P.shape, dtype=bool) if d.eligible is None else d.eligible
    g_of, t_of = np.nonzero(ok)
    pairs = list(zip(g_of.tolist(), t_of.tolist(), strict=True))
    by_group = [[] for _ in range(d.G)]
    by_treatment = [[] for _ in range(d.k)]
    for g, t in pairs:
        by_group[g].append(t)
        by_treatment[t].append(g)
    counts, usage = d.counts.tolist(), d.usage.tolist()
    profit = (d.w[g_of] * d.P[g_of, t_of]).tolist()
    model = pyo.ConcreteModel(name="coarse_mip_assignment")
    model.pairs = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    model.T = pyo.RangeSet(0, d.k - 1)
    model.x = pyo.Var(model.pairs, domain=pyo.NonNegativeIntegers,
                      bounds=lambda _, g, t: (0, counts[g]))                                    # (C8)
    model.y = pyo.Var(model.T, domain=pyo.Binary,
                      bounds=lambda _, t: (1, 1) if d.required[t] else (0, 1))                  # (C8)
    model.objective = pyo.Objective(                                                          # (C1)
        expr=pyo.quicksum(c * model.x[p] for c, p in zip(profit, pairs, strict=True))
        - pyo.quicksum(float(d.fixed[t]) * model.y[t] for t in range(d.k) if d.fixed[t] != 0),
        sense=pyo.maximize)
    model.assign = pyo.Constraint(range(d.G), rule=lambda m, g: pyo.quicksum(                 # (C2)
        m.x[g, t] for t in by_group[g]) == counts[g])
    model.link = pyo.Constraint(model.pairs, rule=lambda m, g, t: m.x[g, t] - counts[g] * m.y[t] <= 0)  # (C3)
    capped = [t for t in range(d.k) if np.isfinite(d.hi[t])]
    floored = [t for t in range(d.k) if d.lo[t] > 0]
    model.cap = pyo.Constraint(capped, rule=lambda m, t: pyo.quicksum(                        # (C4)
        usage[g] * m.x[g, t] for g in by_treatment[t]) - float(d.hi[t]) * m.y[t] <= 0)
    model.floor = pyo.Constraint(floored, rule=lambda m, t: pyo.quicksum(                     # (C5)
        usage[g] * m.x[g, t] for g in by_treatment[t]) - float(d.lo[t]) * m.y[t] >= 0)
    model.card = pyo.Constraint(expr=pyo.quicksum(model.y[t] for t in model.T) <= d.K)       # (C6)
    if d.budget is not None:
        spend = (d.w[g_of] * d.cost[g_of, t_of]).tolist()
        model.budget = pyo.Constraint(expr=pyo.quicksum(                                      # (C7)
            s * model.x[p] for s, p in zip(spend, pairs, strict=True)) <= d.budget)
    return model
