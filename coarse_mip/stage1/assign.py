"""Assigning new individuals to a chosen menu: by estimated profit, or by a rule learned on DR rewards.

Given a menu of K treatments, the plug-in rule gives each individual the offered treatment of
highest estimated profit. Two learned rules use the doubly robust rewards of the menu's
treatments instead (:math:`\\Gamma_{ik}`, unbiased for the profit of individual i under offer
k), restricted to the menu from the start:

- ``"classifier"``: cost-sensitive classification, the offer with the largest reward as the
  label and the reward gap to the runner-up as the weight (exact for K = 2), by gradient
  boosting on the covariates;
- ``"tree"``: EconML's ``PolicyTree`` of depth 3 on the rewards: at most 8 interpretable
  segments.

:func:`compare_assignments` scores every rule by its cross-fitted DR value on the training
individuals (rules fitted on the other folds; the plug-in rule on out-of-fold profit
estimates), with the standard error of its paired difference to the plug-in rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

from .select import paired_se

__all__ = ["RULES", "compare_assignments", "fit_rule"]

#: Assignment rules of a menu.
RULES = ("plug_in", "classifier", "tree")


def fit_rule(rule: str, Z: np.ndarray, rewards: np.ndarray, sample_weight=None, random_state: int | None = 0):
    """A learned assignment rule fitted on encoded covariates ``Z`` (n, p) and DR rewards (n, K);
    its ``predict(Z)`` gives menu positions 0..K-1."""
    n, K = rewards.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if rule == "classifier":
        order = np.sort(rewards, axis=1)
        label = np.argmax(rewards, axis=1)
        gap = order[:, -1] - order[:, -2] if K > 1 else np.ones(n)
        if np.unique(label).size < 2:
            return _Constant(int(label[0]))
        return _Classifier(HistGradientBoostingClassifier(
            learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=200, max_iter=200, early_stopping=True,
            random_state=random_state).fit(Z, label, sample_weight=w * gap), K)
    if rule == "tree":
        from econml.policy import PolicyTree

        leaf = max(50, n // 200)
        return PolicyTree(max_depth=3, min_samples_leaf=leaf, honest=False, random_state=random_state).fit(
            Z, rewards, sample_weight=w)
    raise ValueError(f"rule must be one of {RULES[1:]}, got {rule!r}")


def compare_assignments(Z: np.ndarray, rewards: np.ndarray, oof_profits: np.ndarray, splits, *,
                        sample_weight=None, random_state: int | None = 0) -> pd.DataFrame:
    """Cross-fitted DR value of each assignment rule of one menu.

    Parameters
    ----------
    Z : ndarray of shape (n, p)
        Encoded covariates.
    rewards : ndarray of shape (n, K)
        DR rewards of the menu's treatments.
    oof_profits : ndarray of shape (n, K)
        Out-of-fold estimated profits of the menu's treatments (the plug-in rule's input).
    splits : list of (train, held-out) index pairs

    Returns
    -------
    DataFrame
        Index ``rule``; ``value`` (mean DR reward of the rule's offers, per individual),
        ``se_vs_plug_in`` (standard error of its paired difference to the plug-in rule).
    """
    n, K = rewards.shape
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    chosen = {"plug_in": np.argmax(oof_profits, axis=1)}
    for rule in RULES[1:]:
        a = np.empty(n, dtype=np.intp)
        for train, held in splits:
            a[held] = fit_rule(rule, Z[train], rewards[train], w[train], random_state).predict(Z[held])
        chosen[rule] = a
    got = {rule: rewards[np.arange(n), a] for rule, a in chosen.items()}
    rows = [{"rule": rule, "value": float(w @ r / w.sum()), "se_vs_plug_in": paired_se(r - got["plug_in"], w)}
            for rule, r in got.items()]
    return pd.DataFrame(rows).set_index("rule")


class _Classifier:
    def __init__(self, model, K: int):
        self.model = model
        self.K = K

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(Z), dtype=np.intp)


class _Constant:
    def __init__(self, k: int):
        self.k = k

    def predict(self, Z: np.ndarray) -> np.ndarray:
        return np.full(len(Z), self.k, dtype=np.intp)
