"""Coarse personalization on real data: the Hillstrom e-mail experiment (2008).

64,000 customers were randomized (1/3 each) to no e-mail, a men's or a women's merchandise
e-mail. Profit of a customer is ``margin * spend - cost * emailed``; the data has neither,
so both are parameters (defaults: a 35 % gross margin on spend, 10 cents per e-mail,
all-in cost of sending one; assumptions, not figures from the data).

Steps: split the customers at random into a training and a held-out half; on the training
half, estimate every customer's expected spend under each arm (EconML DRLearner, cross-
fitted nuisances), price it, and choose the best menu of K = 1..3 arms with the exact
solver; on the held-out half, assign each customer to their best offered arm by their
estimated profit and estimate the policy's value by doubly robust AIPW (known 1/3
propensities) with a 95 % confidence interval, as a lift over e-mailing no one and as a
paired difference to the best single arm (exact K = 1). The fixed
policies (e-mail no one, everyone the men's or the women's e-mail) and k-means on
covariates are scored the same way.

The data are read at run time from the shared folder (``../shared/data/hillstrom`` beside
the repository) or ``--data``; nothing is written there.

Run:  OMP_NUM_THREADS=1 .venv/bin/python examples/hillstrom.py [--margin 0.35] [--cost 0.10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import coarse_mip as cm
from coarse_mip import evaluate
from coarse_mip.stage1 import email_profit, read_hillstrom

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hillstrom"
EMAILED = np.array([0.0, 1.0, 1.0])  # arms: no e-mail, men's, women's


def study(data_path: Path, *, margin: float, cost: float, test_share: float, seed: int,
          estimator: str = "auto") -> tuple[pd.DataFrame, dict]:
    """Menus for K = 1..3 chosen on a training split and their DR values on the held-out split.

    Returns the table (one row per policy: menu, in-sample estimated share of full
    personalization, held-out mix of arms, DR lift over e-mailing no one and paired DR
    difference to the exact K = 1 policy, $ per customer with 95 % CIs) and a dict of run
    facts.
    """
    exp = read_hillstrom(data_path)
    rng = np.random.default_rng(seed)
    order = rng.permutation(exp.n)
    n_test = int(round(test_share * exp.n))
    train, test = exp.subset(order[n_test:]), exp.subset(order[:n_test])

    # Stage I as CoarsePolicy runs it (estimator="auto": chosen by cross-fitted DR loss); its
    # outcomes are reordered to the experiment's arm order.
    arms = np.asarray(exp.arms, dtype=object)
    pol = cm.CoarsePolicy(K=1, control=arms[0], margin=margin, treatment_cost={a: cost for a in arms[1:]},
                          estimator=estimator, random_state=seed, progress=False)
    pol.estimate(train.X, arms[train.T], train.spend)
    order_arms = [list(pol.arms_).index(a) for a in arms]
    names = [a.replace(" E-Mail", "") for a in exp.arms]
    levels_train = email_profit(pol.predict_outcome(train.X)[:, order_arms], EMAILED, margin=margin, cost=cost)
    levels_test = email_profit(pol.predict_outcome(test.X)[:, order_arms], EMAILED, margin=margin, cost=cost)
    P_train = pd.DataFrame(levels_train - levels_train[:, :1], columns=names)
    P_test = levels_test - levels_test[:, :1]
    outcome = email_profit(test.spend, test.T != 0, margin=margin, cost=cost)
    control = np.zeros(test.n, dtype=int)

    menus = {K: cm.solve(P_train, K, "exact", seed=seed).treatments for K in (1, 2, 3)}
    policies = [(f"exact K={K}", evaluate.Policy.from_menu(P_train, menu)) for K, menu in menus.items()]
    policies += [(f"everyone {name}", evaluate.Policy.from_menu(P_train, [k])) for k, name in enumerate(names)]
    policies += [(f"kmeans_X K={K}", evaluate.kmeans_on_covariates(train.X, P_train, K, seed=seed)) for K in (2, 3)]
    assignments = [policy.assign(profits=P_test, X=test.X) for _, policy in policies]
    rows = []
    for (label, policy), a in zip(policies, assignments, strict=True):
        dr = {name: evaluate.dr_policy_value(outcome, test.T, test.propensity, levels_test, a, reference=ref)
              for name, ref in (("lift", control), ("vs_K1", assignments[0]))}
        rows.append({"policy": label, "menu": " ".join(names[t] for t in policy.treatments),
                     "est_share": evaluate.share_of_full(P_train, policy.assignment),
                     "held_out_mix": " ".join(f"{names[k]} {np.mean(a == k):.0%}" for k in range(3) if np.any(a == k)),
                     **{f"{name}{suffix}": value for name, v in dr.items()
                        for suffix, value in (("", v.value), ("_lo", v.ci[0]), ("_hi", v.ci[1]))}})
    facts = {"n_train": train.n, "n_test": test.n, "fit_s": pol.estimator_.fit_time_, "stage1": pol.estimator_name_,
             "selection": pol.selection_,
             "full_estimated": float(P_train.to_numpy().max(axis=1).mean())}
    return pd.DataFrame(rows), facts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA, help=f"Hillstrom CSV or its folder (default {DATA})")
    ap.add_argument("--margin", type=float, default=0.35, help="gross margin on spend (default 0.35)")
    ap.add_argument("--cost", type=float, default=0.10, help="cost per e-mail sent, dollars (default 0.10)")
    ap.add_argument("--test-share", type=float, default=0.5, help="held-out share of customers (default 0.5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--estimator", default="auto", help="Stage I (default auto; 'dr' is the per-arm DRLearner)")
    ap.add_argument("--out", type=Path, help="write the table as CSV here")
    args = ap.parse_args(argv)
    if not 0.05 <= args.test_share <= 0.95:
        ap.error(f"--test-share must be in [0.05, 0.95], got {args.test_share}")
    if not args.data.exists():
        print(f"hillstrom: error: data not found at {args.data} (pass --data PATH)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        table, facts = study(args.data, margin=args.margin, cost=args.cost, test_share=args.test_share,
                             seed=args.seed, estimator=args.estimator)
    except (ValueError, FileNotFoundError) as exc:
        print(f"hillstrom: error: {exc}", file=sys.stderr)
        return 2
    print(f"Hillstrom e-mail experiment: {facts['n_train']:,} training / {facts['n_test']:,} held-out customers, "
          f"profit = {args.margin} x spend - ${args.cost:.2f} per e-mail, seed {args.seed}; Stage I "
          f"{facts['stage1']}, final fit {facts['fit_s']:.1f} s; estimated full personalization "
          f"{facts['full_estimated']:.4f} $/customer over no e-mail (training).")
    if facts["selection"] is not None:
        print("Stage I by cross-fitted DR loss (training):\n" + facts["selection"].table[
            ["dr_loss", "dr_loss_se", "policy_value"]].to_string(float_format=lambda v: f"{v:.4g}"))
    print("est_share: in-sample estimated profit / estimated full personalization (training). lift: AIPW "
          "profit over e-mailing no one, $ per customer, held-out, 95% CI; vs_K1: paired AIPW difference "
          "to the exact K=1 policy.")
    show = table.assign(**{name: [f"{v:.4f} [{lo:.4f}, {hi:.4f}]" for v, lo, hi in
                                  table[[name, f"{name}_lo", f"{name}_hi"]].to_numpy()] for name in ("lift", "vs_K1")})
    print(show[["policy", "menu", "est_share", "held_out_mix", "lift", "vs_K1"]].to_string(
        index=False, float_format=lambda v: f"{100 * v:.1f}%"))
    print(f"total {time.perf_counter() - t0:.1f} s")
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
