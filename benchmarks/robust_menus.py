"""Robust menus (B bootstrap-weighted Stage I refits) against the plain menu, held out, over seeds.

For each seed: simulate n training and n held-out customers, fit ``CoarsePolicy(scenarios=B)``
(Stage I chosen by the data), and compare the held-out true share of true full
personalization of the robust menu and of the menu chosen on the plain profits, both assigned
by estimated profit; print the K = 5 stability (Jaccard, treatment frequencies).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/robust_menus.py [--n 20000] [--seeds 5] [--B 5]
"""

import argparse
import time

import numpy as np

import coarse_mip as cm
from coarse_mip.stage1 import simulate_promotions

GRID = np.round(np.arange(31) * 0.01, 10)
KS = (1, 2, 3, 5)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--B", type=int, default=5)
    args = ap.parse_args(argv)
    n = args.n
    means = {("robust", K): [] for K in KS} | {("plain", K): [] for K in KS}
    for seed in range(args.seeds):
        both = simulate_promotions(2 * n, seed=seed)
        train, test = both.subset(np.arange(n)), both.subset(np.arange(n, 2 * n))
        truth = test.true_profit(GRID)
        full = truth.max(axis=1).sum()
        t0 = time.perf_counter()
        pol = cm.CoarsePolicy(K=list(KS), candidates=GRID, scenarios=args.B, random_state=seed, progress=False)
        pol.fit(train.X, train.arms[train.T], train.sales)
        P = pol.predict_profit(test.X).to_numpy()
        cells = [f"seed {seed} {pol.estimator_name_} {time.perf_counter() - t0:.0f} s"]
        for K in KS:
            plain = cm.solve(pol.profits_, K).treatments
            for kind, menu in (("robust", pol.solutions_[K].treatments), ("plain", plain)):
                menu = np.asarray(menu)
                share = truth[np.arange(n), menu[P[:, menu].argmax(axis=1)]].sum() / full
                means[(kind, K)].append(share)
                cells.append(f"K={K} {kind} {100 * share:.2f}")
        st = pol.stability_
        cells.append(f"| K={max(KS)} Jaccard {st['jaccard']:.2f}, in the scenarios' menus: "
                     + " ".join(f"{t:.2f}:{f:.1f}" for t, f in st["frequency"].items() if f > 0))
        print("  ".join(cells), flush=True)
    print("mean over seeds: " + "  ".join(f"K={K} robust {100 * np.mean(means[('robust', K)]):.2f} "
                                          f"plain {100 * np.mean(means[('plain', K)]):.2f}" for K in KS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
