"""Choosing a Stage I estimator with the experiment's data only: a cross-fitted doubly robust criterion.

Real data never reveal a customer's true profit curve, but a randomized experiment gives an
unbiased *score* of it. With known propensities :math:`e_k` (the arms' shares) and any
outcome model :math:`\\hat\\mu` fitted on other folds, the doubly robust (AIPW) score

.. math::

    \\Gamma_{ik} = \\hat\\mu_k(x_i) + \\frac{1[T_i = k]}{e_k}\\,(y_i - \\hat\\mu_k(x_i))

has :math:`E[\\Gamma_{ik} \\mid x_i] = \\mu_k(x_i)` whatever :math:`\\hat\\mu` is; a poor
:math:`\\hat\\mu` only adds variance. Priced into incremental profits :math:`G_{ik}` at the
arms, it ranks estimators by their held-out *DR loss*

.. math::

    L(\\hat P) = \\frac{1}{n} \\sum_i \\sum_{k \\ne 0} (G_{ik} - \\hat P_{ik})^2
    = \\frac{1}{n} \\sum_i \\sum_{k \\ne 0} (P_{ik} - \\hat P_{ik})^2 + \\text{a constant}
    + \\text{noise},

since the score's error is uncorrelated with anything fitted on other folds. Every
candidate is fitted on the same folds as the nuisance, so its out-of-fold predictions are
scored on customers it never saw; those predictions are also the honest (out-of-fold)
profit estimates of the training customers. The same scores give the held-out value of
each candidate's plug-in policy (every customer at their estimated best arm), reported
beside the loss.

The experiment says nothing directly about doses between the arms; the demand interpolation
there is checked the only way the data allow, by leaving each interior arm out, interpolating
it from the others and scoring that against its DR scores (:func:`interpolation_table`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GroupKFold, KFold

from .._validation import as_frame
from .estimate import fit_encoder, outcome_boosting
from .profit import leave_one_arm_out

__all__ = ["STACK", "Selection", "StackedEstimator", "choose_interpolation", "cross_fit", "interpolation_table",
           "paired_se", "select_estimator", "stack_weights"]

#: The name of the stacked combination in a Selection.
STACK = "stack"

logger = logging.getLogger(__name__)


class Selection:
    """The result of :func:`select_estimator`.

    Attributes
    ----------
    table : DataFrame
        One row per candidate (``name`` or ``name/variant``, see :func:`select_estimator`),
        best first, with ``estimator`` and ``variant`` columns: ``dr_loss`` (mean over customers of the summed
        squared error against the DR scores, non-control arms), ``dr_loss_se`` (standard error
        of its difference to the best candidate's), ``policy_value`` (held-out DR value per
        customer of every customer at their estimated best arm, over control for everyone),
        ``fit_s``.
    best : tuple
        ``(estimator, variant)`` of the candidate with the smallest DR loss.
    out_of_fold : dict
        Candidate -> out-of-fold outcome predictions at the arms, (n, n_arms).
    scores : ndarray of shape (n, n_arms)
        The DR scores of every customer's incremental profit at the arms (control 0).
    outcome_scores : ndarray of shape (n, n_arms)
        The DR scores of every customer's outcome at the arms.
    weights : dict
        Candidate -> weight of the stacked combination (non-zero weights only; empty when
        not stacked or when one candidate takes all).
    n : int
        Individuals the selection ran on.
    """

    def __init__(self, table: pd.DataFrame, out_of_fold: dict, scores: np.ndarray, outcome_scores: np.ndarray,
                 weights: dict):
        self.table = table
        self.best = (str(table["estimator"].iloc[0]), table["variant"].iloc[0])
        self.out_of_fold = out_of_fold
        self.scores = scores
        self.outcome_scores = outcome_scores
        self.weights = weights
        self.n = len(scores)

    def __repr__(self) -> str:
        return f"Selection(best={self.best!r}, candidates={list(self.table.index)})"


def folds(n: int, cv: int, seed: int | None, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, held-out) index pairs: seeded shuffled K-fold, or group K-fold keeping clusters whole."""
    if groups is not None:
        return list(GroupKFold(n_splits=cv).split(np.zeros(n), groups=groups))
    return list(KFold(n_splits=cv, shuffle=True, random_state=seed).split(np.zeros(n)))


def cross_fit(estimator, X, T: np.ndarray, y: np.ndarray, splits, *, sample_weight=None, fit_params=None) -> np.ndarray:
    """Out-of-fold predictions of a Stage I estimator: each fold predicted by a clone fitted on the others.

    Returns
    -------
    ndarray of shape (n, n_arms)
    """
    frame = as_frame(X)
    out = None
    for train, held in splits:
        est = clone(estimator).fit(frame.iloc[train], T[train], y[train], **(fit_params or {}),
                                   sample_weight=None if sample_weight is None else sample_weight[train])
        pred = est.predict(frame.iloc[held])
        if out is None:
            out = np.empty((len(T), pred.shape[1]))
        out[held] = pred
    return out


def dr_scores(X, T: np.ndarray, y: np.ndarray, n_arms: int, splits, *, sample_weight=None,
              random_state: int | None = 0) -> np.ndarray:
    """Doubly robust scores of every customer's outcome at every arm, (n, n_arms).

    Propensities are the arms' (weighted) shares; the outcome model is one gradient-boosted
    regression on the covariates and the one-hot arm, cross-fitted on ``splits``."""
    Z = fit_encoder(_Encoding(), as_frame(X))
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    share = np.bincount(T, weights=w, minlength=n_arms) / w.sum()
    onehot = np.eye(n_arms)
    mu = np.empty((len(y), n_arms))
    for train, held in splits:
        model = outcome_boosting(random_state)
        model.fit(np.hstack([Z[train], onehot[T[train]]]), y[train], sample_weight=w[train])
        for k in range(n_arms):
            mu[held, k] = model.predict(np.hstack([Z[held], np.broadcast_to(onehot[k], (len(held), n_arms))]))
    residual = y - mu[np.arange(len(y)), T]
    return mu + onehot[T] / share[T][:, None] * residual[:, None]


def select_estimator(candidates: Mapping[str, object], X, T, y, *,
                     price: Callable[[np.ndarray, str | None], np.ndarray], variants: Sequence = (None,), cv: int = 3,
                     random_state: int | None = 0, sample_weight=None, groups=None,
                     fit_params: Mapping[str, dict] | None = None, stack: bool = True) -> Selection:
    """Rank Stage I estimators by their cross-fitted DR loss on incremental profit at the arms.

    Parameters
    ----------
    candidates : {name: estimator}
        Unfitted Stage I estimators (``fit(X, T, y, sample_weight=...)``, ``predict(X)`` of
        shape (n, n_arms)).
    X : DataFrame or array-like of shape (n, p)
    T : array-like of shape (n,), int
        Arm indices ``0..n_arms-1``, 0 the control.
    y : array-like of shape (n,)
    price : callable
        ``price(outcomes, variant)``: outcomes at the arms (n, n_arms) -> profit levels at the
        arms (n, n_arms). ``variant=None`` prices the DR scores and must be affine in the
        outcomes (so DR scores of outcomes are DR scores of profits); a variant may smooth a
        candidate's predictions first (e.g. a demand curve through the arms).
    variants : sequence, default=(None,)
        Pricings tried on every candidate's predictions (no refit); each pair is one row.
    cv : int, default=3
        Folds.
    random_state : int or None, default=0
        Seed of the folds and the nuisance model.
    sample_weight : array-like of shape (n,), optional
    groups : array-like of shape (n,), optional
        Clusters that folds keep whole.
    fit_params : {name: dict}, optional
        Extra ``fit`` keywords per candidate (e.g. ``arms``).
    stack : bool, default=True
        Also score the convex combination of the candidates that best fits the DR scores
        (:func:`stack_weights`), as candidate ``"stack"``.

    Returns
    -------
    Selection
    """
    if not candidates:
        raise ValueError("select_estimator needs at least one candidate")
    T = np.asarray(T)
    y = np.asarray(y, dtype=float)
    n_arms = int(T.max()) + 1
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    splits = folds(len(y), cv, random_state, groups)
    scores = dr_scores(X, T, y, n_arms, splits, sample_weight=sample_weight, random_state=random_state)
    G = _incremental(price(scores, None))
    rows, oof = {}, {}

    def score(name: str, predictions: np.ndarray, seconds: float) -> None:
        for variant in variants:
            P = _incremental(price(predictions, variant))
            loss = ((G - P)[:, 1:] ** 2).sum(axis=1)
            label = name if len(variants) == 1 else f"{name}/{variant}"
            rows[label] = {"estimator": name, "variant": variant, "loss_rows": loss,
                           "dr_loss": float(w @ loss / w.sum()),
                           "policy_value": float(w @ G[np.arange(len(y)), np.argmax(P, axis=1)] / w.sum()),
                           "fit_s": seconds}
            logger.info("Stage I candidate %s: DR loss %.4g, plug-in policy value %.4g", label, rows[label]["dr_loss"],
                        rows[label]["policy_value"])

    seconds = {}
    for name, est in candidates.items():
        start = time.perf_counter()
        oof[name] = cross_fit(est, X, T, y, splits, sample_weight=sample_weight,
                              fit_params=(fit_params or {}).get(name))
        seconds[name] = (time.perf_counter() - start) / len(splits)
        score(name, oof[name], seconds[name])
    weights = stack_weights({k: _incremental(price(v, None)) for k, v in oof.items()}, G, w) if stack else {}
    if len(weights) > 1:
        oof[STACK] = sum(weight * oof[k] for k, weight in weights.items())
        score(STACK, oof[STACK], sum(seconds[k] for k in weights))
    order = sorted(rows, key=lambda k: rows[k]["dr_loss"])
    best_loss = rows[order[0]]["loss_rows"]
    table = pd.DataFrame([{"candidate": k, "estimator": rows[k]["estimator"], "variant": rows[k]["variant"],
                           "dr_loss": rows[k]["dr_loss"], "dr_loss_se": paired_se(rows[k]["loss_rows"] - best_loss, w),
                           "policy_value": rows[k]["policy_value"], "fit_s": rows[k]["fit_s"]}
                          for k in order]).set_index("candidate")
    return Selection(table, oof, G, scores, weights)


def interpolation_table(outcome: np.ndarray, arms, scores: np.ndarray,
                        price: Callable[[np.ndarray, str | None], np.ndarray], methods: Sequence[str],
                        weights: np.ndarray | None = None) -> pd.DataFrame:
    """Demand interpolations ranked by how well they predict each interior arm from the others.

    Parameters
    ----------
    outcome : ndarray of shape (n, n_arms)
        Out-of-fold outcome predictions at the arms (control first).
    arms : array-like of shape (n_arms,)
        The doses, increasing from 0; at least 3 (4 for "quadratic").
    scores : ndarray of shape (n, n_arms)
        DR scores of incremental profit at the arms (:attr:`Selection.scores`).
    price : callable
        As :func:`select_estimator` (called with ``variant=None``).
    methods : sequence of str
        Interpolations of :func:`~coarse_mip.stage1.profit_matrix`.
    weights : ndarray of shape (n,), optional

    Returns
    -------
    DataFrame
        One row per method, best first: ``loo_loss`` (mean over individuals of the summed
        squared error, interior arms, of the left-out interpolation against the DR scores) and
        ``loo_se`` (standard error of its difference to the best method's).
    """
    w = np.ones(len(outcome)) if weights is None else np.asarray(weights, dtype=float)
    losses = {}
    for method in methods:
        P = _incremental(price(leave_one_arm_out(outcome, arms, method), None))
        losses[method] = ((scores - P)[:, 1:-1] ** 2).sum(axis=1)
    order = sorted(losses, key=lambda k: w @ losses[k])
    best = losses[order[0]]
    return pd.DataFrame([{"method": k, "loo_loss": float(w @ losses[k] / w.sum()),
                          "loo_se": paired_se(losses[k] - best, w)} for k in order]).set_index("method")


def choose_interpolation(table: pd.DataFrame, prefer: str = "pchip") -> str:
    """``prefer`` unless another method predicts the left-out arms better by more than one standard
    error of their difference; then the best. The default prefers the interpolant that passes
    through the arm estimates (keeping their calibration) and is smooth between them; a
    smoother such as "quadratic" has to earn its bias with the data (noisy per-arm estimates)."""
    if prefer in table.index:
        excess = table.loc[prefer, "loo_loss"] - table["loo_loss"].iloc[0]
        if excess <= table.loc[prefer, "loo_se"]:
            return prefer
    return str(table.index[0])


def stack_weights(predictions: Mapping[str, np.ndarray], scores: np.ndarray, weights: np.ndarray) -> dict:
    """Convex weights of candidates' incremental profit predictions that best fit the DR scores.

    Non-negative least squares of the scores (n, n_arms) on the candidates' out-of-fold
    predictions (each (n, n_arms)), non-control arms, rows weighted, then normalized to sum
    to one (a super learner). With noisy scores one candidate rarely wins clearly; the
    combination averages their errors instead of betting on the noise.

    Returns
    -------
    dict
        Candidate -> weight, non-zero weights only.
    """
    from scipy.optimize import nnls

    names = list(predictions)
    root = np.sqrt(weights / weights.sum())[:, None]
    A = np.column_stack([(root * predictions[k][:, 1:]).ravel() for k in names])
    coef, _ = nnls(A, (root * scores[:, 1:]).ravel())
    if coef.sum() <= 0:
        return {}
    coef = coef / coef.sum()
    return {k: float(c) for k, c in zip(names, coef, strict=True) if c > 0}


class StackedEstimator(BaseEstimator):
    """A weighted combination of fitted-on-demand Stage I estimators: ``predict`` is the weighted
    sum of the members' outcome predictions at the arms.

    Parameters
    ----------
    members : list of (name, estimator, fit keywords)
    weights : list of float
        One per member, summing to one.
    """

    def __init__(self, members, weights):
        self.members = members
        self.weights = weights

    def fit(self, X, T, y, *, sample_weight=None, groups=None) -> "StackedEstimator":
        start = time.perf_counter()
        self.fitted_ = [clone(est).fit(X, T, y, sample_weight=sample_weight, groups=groups, **kwargs)
                        for _, est, kwargs in self.members]
        first = self.fitted_[0]
        for name in ("feature_names_in_", "categorical_features_", "encoder_", "n_arms_"):
            setattr(self, name, getattr(first, name))
        self.fit_time_ = time.perf_counter() - start
        return self

    def predict(self, X) -> np.ndarray:
        """Weighted sum of the members' predictions, (n, n_arms)."""
        return sum(w * est.predict(X) for w, est in zip(self.weights, self.fitted_, strict=True))


def _incremental(levels: np.ndarray) -> np.ndarray:
    return levels - levels[:, :1]


def paired_se(diff: np.ndarray, w: np.ndarray) -> float:
    """Standard error of the weighted mean of per-individual differences ``diff`` (n,)."""
    w = w / w.sum()
    mean = w @ diff
    return float(np.sqrt(w @ (diff - mean) ** 2 / max(len(diff) - 1, 1)))


class _Encoding:
    """Holder of a covariate encoding (``fit_encoder`` sets its attributes)."""
