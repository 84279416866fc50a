"""Stage I at scale: CoarsePolicy.estimate (estimator chosen by the data) on 10^6 simulated customers.

Times the selection (on a seeded SELECTION_ROWS sample), the final fit on every customer and
the profits of every customer on a 1 % grid (predict_profit), and reports the peak resident
memory of the process.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stage1_scale.py [--n 1000000] [--estimator auto]
"""

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np

import coarse_mip as cm
from coarse_mip.stage1 import simulate_promotions

GRID = np.round(np.arange(31) * 0.01, 10)
RESULTS = Path(__file__).resolve().parent / "results" / "stage1_scale.jsonl"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--estimator", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    exp = simulate_promotions(args.n, seed=args.seed)
    pol = cm.CoarsePolicy(K=5, candidates=GRID, estimator=args.estimator, random_state=args.seed, progress=False)
    t0 = time.perf_counter()
    pol.estimate(exp.X, exp.arms[exp.T], exp.sales)        # selection + final fit + training profits
    estimate_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    P = pol.predict_profit(exp.X)
    predict_s = time.perf_counter() - t1
    truth = exp.true_profit(GRID)
    row = {"n": args.n, "m": GRID.size, "estimator": pol.estimator_name_, "interpolation": pol.interpolation_,
           "weights": pol.stack_weights_, "estimate_s": round(estimate_s, 1), "predict_s": round(predict_s, 1),
           "total_s": round(estimate_s + predict_s, 1),
           "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
           "rmse_profit": round(float(np.sqrt(np.mean((P.to_numpy() - truth) ** 2))), 4)}
    print(json.dumps(row), flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
