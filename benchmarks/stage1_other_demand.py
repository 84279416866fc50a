"""Stage I on a demand model unlike the simulator's: is estimator="auto" at least the old default there?

Saturating purchase response sigma(a + b (1 - exp(-d / c))), a basket that grows with the
discount for some customers, interactions between covariates; the covariates are those of
``simulate_promotions``. Prints, per estimator, the held-out true share of true full
personalization at K = 1, 2, 3, 5 (assigned / menu) and the DR-loss table of "auto".

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stage1_other_demand.py [--n 20000] [--seed 0]
"""

import argparse
import time

import numpy as np

import coarse_mip as cm
from coarse_mip.stage1 import simulate_promotions

ARMS = np.array([0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30])
MARGIN = 0.4
GRID = np.round(np.arange(31) * 0.01, 10)


def experiment(n: int, seed: int):
    """Covariates, arms received, sales and the true expected sales function of 2n customers."""
    X = simulate_promotions(2 * n, seed=seed).X
    x = X[[f"x{j}" for j in range(1, 11)]].to_numpy()
    tier, channel = X["tier"].cat.codes.to_numpy(), X["channel"].cat.codes.to_numpy()
    a = -1.0 + 0.5 * x[:, 0] * (x[:, 1] > 0) - 0.5 * (tier == 0) + 0.4 * np.sin(2 * x[:, 3])
    b = 2.5 * np.exp(0.5 * x[:, 2] - 0.3 * x[:, 4] * x[:, 5]) * (1 + 0.6 * (channel == 1))
    c = 0.08 + 0.1 * (x[:, 6] > 0.5)
    g = np.clip(1.0 + 0.8 * x[:, 7], 0, 3)
    v = np.exp(3.2 + 0.3 * np.tanh(x[:, 0] + x[:, 2]))

    def expected(d):
        d = np.asarray(d, dtype=float)[None, :]
        buy = 1 / (1 + np.exp(-(a[:, None] + b[:, None] * (1 - np.exp(-d / c[:, None])))))
        return v[:, None] * (1 + g[:, None] * d) * buy

    rng = np.random.default_rng(seed + 100)
    T = rng.integers(ARMS.size, size=2 * n)
    d = ARMS[T]
    p = 1 / (1 + np.exp(-(a + b * (1 - np.exp(-d / c)))))
    sales = (rng.random(2 * n) < p) * v * (1 + g * d) * np.exp(0.4 * rng.standard_normal(2 * n) - 0.08)
    return X, T, sales, expected


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--estimators", default="dr/quadratic,auto", help="name or name/interpolation, comma-separated")
    args = ap.parse_args(argv)
    n = args.n
    X, T, sales, expected = experiment(n, args.seed)
    level = expected(GRID)[n:] * (MARGIN - GRID)[None, :]
    truth = level - level[:, :1]
    full = truth.max(axis=1).sum()
    train = X.iloc[:n].reset_index(drop=True)
    test = X.iloc[n:].reset_index(drop=True)
    for spec in args.estimators.split(","):
        name, _, interpolation = spec.partition("/")
        t0 = time.perf_counter()
        pol = cm.CoarsePolicy(K=[1, 2, 3, 5], candidates=GRID, margin=MARGIN, estimator=name,
                              interpolation=interpolation or "auto", random_state=args.seed, progress=False)
        pol.fit(train, ARMS[T[:n]], sales[:n])
        P = pol.predict_profit(test).to_numpy()
        cells = [f"{spec:14s} -> {pol.estimator_name_}/{pol.interpolation_} {time.perf_counter() - t0:5.1f} s"]
        for K in (1, 2, 3, 5):
            menu = np.asarray(pol.solutions_[K].treatments)
            assigned = menu[P[:, menu].argmax(axis=1)]
            cells.append(f"K={K} {100 * truth[np.arange(n), assigned].sum() / full:.1f}"
                         f"/{100 * truth[:, menu].max(axis=1).sum() / full:.1f}")
        print("  ".join(cells), flush=True)
        if pol.selection_ is not None:
            print(pol.selection_.table[["dr_loss", "dr_loss_se"]].round(2).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
