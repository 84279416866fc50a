"""Coarse personalization on a continuous treatment: Thornton's (2008) HIV-results vouchers.

In rural Malawi, 2,8xx people tested for HIV were offered a cash voucher of a randomly drawn
amount (0 to 3.00 US dollars; 27 distinct amounts, some given to 2 or 3 people), redeemable
only if they came back to learn their result. An agency choosing "which K voucher amounts to
offer, and to whom" faces coarse personalization with a dose. The data hold no value of a
person learning their status, so it is a stated input V (US dollars); a voucher of amount a is
paid only on attendance, so the net value of offering a to person i is (V - a) P(learn | a, x_i)
minus the same at a = 0.

Steps: drop the rows without an amount, an outcome or the covariates (distance to the results
centre, age; the test result is not known when the amount is set, so it is not a covariate);
split the villages at random into a training and a held-out half; on the training villages fit
one response model monotone in the amount (``estimator="dose"``: a gradient-boosted
S-learner; quadratic smoothing between the amounts), price it, and choose K = 1..4 amounts with
the exact solver; on the held-out villages estimate each policy's value by doubly robust AIPW
(propensities: the amounts' shares) as a lift over giving no voucher and as a paired difference
to the best single amount.

Run:  OMP_NUM_THREADS=1 .venv/bin/python examples/thornton.py [--values 1,3] [--seed 0] [--data PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import coarse_mip as cm

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "thornton_hiv" / "thornton_hiv.dta"
COVARIATES = ["distvct", "age"]


def study(path: Path, values, seed: int, estimator: str = "auto") -> pd.DataFrame:
    raw = pd.read_stata(path)
    used = raw[["villnum", "got", "tinc", *COVARIATES]]
    df = raw[used.notna().all(axis=1)].reset_index(drop=True)
    print(f"{len(df)} of {len(raw)} rows have an amount, the outcome, the village and the covariates", file=sys.stderr)
    villages = np.sort(df["villnum"].unique())
    train_villages = set(np.random.default_rng(seed).permutation(villages)[: len(villages) // 2])
    train = df[df["villnum"].isin(train_villages)].reset_index(drop=True)
    test = df[~df["villnum"].isin(train_villages)].reset_index(drop=True)
    rows = []
    for value in values:
        policy = cm.CoarsePolicy(K=range(1, 5), estimator=estimator, margin=value, random_state=seed, progress=False)
        t0 = time.perf_counter()
        policy.fit(train[COVARIATES], train["tinc"], train["got"], groups=train["villnum"].to_numpy())
        seconds = time.perf_counter() - t0
        for K in sorted(policy.solutions_):
            policy.select(K)
            score = policy.score(test[COVARIATES], test["tinc"], test["got"])
            rows.append({"V": value, "K": K, "menu": " ".join(f"{a:.2f}" for a in policy.menu_),
                         "in-sample share": policy.curve_.set_index("K").loc[K, "share"],
                         "held-out mix": " ".join(f"{float(k):.2f}:{v:.0%}" for k, v in score.mix.items()),
                         "lift over no voucher": _ci(score.lift), "vs best single": _ci(score.vs_single),
                         "Stage I": f"{policy.estimator_name_}/{policy.interpolation_}", "fit s": round(seconds, 1)})
    return pd.DataFrame(rows), len(train), len(test), len(train_villages), len(villages)


def _ci(v) -> str:
    return f"{v.value:.3f} [{v.ci[0]:.3f}, {v.ci[1]:.3f}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--values", default="1,3", help="value of a person learning their status, USD (comma list)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--estimator", default="auto", help="Stage I (default auto: chosen by cross-fitted DR loss; "
                                                        "'dose' is the monotone pooled model)")
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args(argv)
    if not args.data.is_file():
        print(f"thornton.py: error: data not found: {args.data}", file=sys.stderr)
        return 2
    values = [float(v) for v in args.values.split(",")]
    table, n_train, n_test, v_train, v_all = study(args.data, values, args.seed, args.estimator)
    print(f"training: {n_train} people in {v_train} villages; held out: {n_test} people in {v_all - v_train} villages")
    print("values per person in US dollars; DR lifts per person with 95 % CIs, held-out villages")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
