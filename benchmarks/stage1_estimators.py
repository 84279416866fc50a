"""Stage I estimator comparison on the promotions simulator (one thread).

Run:  OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stage1_estimators.py [n] [learner ...]
"""
import sys
import time

import numpy as np

from coarse_mip.stage1 import ArmOutcomeEstimator, profit_matrix, simulate_promotions

n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
learners = sys.argv[2:] or ["dr", "causal_forest"]
exp = simulate_promotions(n, seed=0)
truth = exp.expected_sales(exp.arms)
tau = truth[:, 1:] - truth[:, :1]
true_P = exp.true_profit(exp.arms)[:, 1:]


def rmse(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2)))


print(f"n={n}: constant-per-arm RMSE  effect {rmse(tau, tau.mean(0)):.3f}  "
      f"incremental profit {rmse(true_P, true_P.mean(0)):.3f}")
for learner in learners:
    start = time.perf_counter()
    est = ArmOutcomeEstimator(learner=learner, random_state=0).fit(exp.X, exp.T, exp.sales)
    fit_s = time.perf_counter() - start
    S = est.predict(exp.X)
    P = profit_matrix(S, exp.arms, exp.arms, margin=exp.margin).to_numpy()[:, 1:]
    print(f"{learner:14s} fit {fit_s:6.1f} s  RMSE effect {rmse(S[:, 1:] - S[:, :1], tau):.3f}  "
          f"baseline {rmse(S[:, 0], truth[:, 0]):.3f}  incremental profit {rmse(P, true_P):.3f}")
