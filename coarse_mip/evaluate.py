"""Judge coarse policies: true and doubly robust policy values, and the paper's baselines.

A policy here is an assignment of individuals to columns of a profit matrix. This module
knows nothing of the engines' internals; :func:`best_on_grid` calls the public
:func:`coarse_mip.solve`.

Baselines (Zhang & Misra, "Coarse Personalization", the methods the joint choice of menu and
assignment is compared with), each returned as a :class:`Policy`:

- :func:`kmeans_on_covariates`: segment on standardized covariates, best column per segment;
- :func:`kmeans_on_effects`: segment on the estimated profit vectors, best column per segment;
- :func:`best_on_grid`: the best K columns among a prespecified set (the experimental arms,
  an evenly spaced grid);
- :func:`best_single`: one treatment for everyone;
- :func:`full_personalization`: every individual's own best column (the upper reference).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.stats import norm
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from . import rows
from ._validation import (
    as_frame,
    check_columns,
    check_frame_complete,
    check_indices,
    check_int,
    check_K,
    check_matrix,
    check_vector,
    is_categorical,
)
from .api import solve

__all__ = ["Policy", "PolicyValue", "true_policy_value", "share_of_full", "dr_policy_value",
           "kmeans_on_covariates", "kmeans_on_effects", "best_on_grid", "best_single", "full_personalization"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Policy:
    """A menu of columns and an assignment to it, with the rule that assigns new individuals.

    Attributes
    ----------
    name : str
        Short name for tables, e.g. ``"kmeans_X"``.
    treatments : tuple of int
        Columns offered, sorted ascending.
    assignment : ndarray of shape (n,)
        Column of each individual the policy was built on (each in ``treatments``).
    objective : float
        Sum of the profits used to build it at ``assignment`` (in-sample).
    segmenter : fitted sklearn estimator or None
        For segment baselines: maps covariates (``segment_on="X"``) or profits
        (``segment_on="profits"``) to a segment.
    segment_treatment : ndarray of shape (n_segments,) or None
        Column given to each segment.
    segment_on : {"X", "profits"} or None
        What ``segmenter`` reads; None for menu policies, which give each individual the
        best column of the menu by its profits.
    """

    name: str
    treatments: tuple
    assignment: np.ndarray
    objective: float
    segmenter: object = None
    segment_treatment: np.ndarray | None = None
    segment_on: str | None = None

    def __repr__(self) -> str:
        return (f"Policy({self.name!r}, treatments={self.treatments}, n={len(self.assignment)}, "
                f"objective={self.objective:.6g})")

    @classmethod
    def from_menu(cls, profits, treatments, name: str = "menu") -> "Policy":
        """The policy that offers ``treatments`` and gives everyone their best one.

        Parameters
        ----------
        profits : array-like of shape (n, m) or DataFrame
        treatments : sequence of int
            Column indices offered (e.g. ``Solution.treatments``).
        name : str, default="menu"

        Returns
        -------
        Policy
        """
        P = check_matrix(profits)[0]
        menu = check_columns(treatments, P.shape[1], "treatments")
        assignment = rows.assign(P, menu)
        return cls(name, tuple(int(t) for t in menu), assignment, float(P[np.arange(len(P)), assignment].sum()))

    def assign(self, *, profits=None, X=None) -> np.ndarray:
        """Columns for new individuals (e.g. a held-out split).

        Parameters
        ----------
        profits : array-like of shape (n, m) or DataFrame, optional
            Their estimated profits; needed unless the policy segments on covariates.
        X : DataFrame or array-like of shape (n, p), optional
            Their covariates; needed when ``segment_on == "X"``.

        Returns
        -------
        ndarray of shape (n,)
            Column indices, each in ``treatments``.
        """
        if self.segment_on == "X":
            if X is None:
                raise ValueError(f"policy {self.name!r} segments on covariates: pass X")
            return self.segment_treatment[self.segmenter.predict(as_frame(X))]
        if profits is None:
            raise ValueError(f"policy {self.name!r} needs the individuals' estimated profits")
        P = check_matrix(profits)[0]
        if P.shape[1] <= max(self.treatments):
            raise ValueError(f"profits has {P.shape[1]} columns; the policy uses column {max(self.treatments)}")
        if self.segment_on == "profits":
            return self.segment_treatment[self.segmenter.predict(P)]
        return rows.assign(P, np.asarray(self.treatments))


class PolicyValue(NamedTuple):
    """Estimated mean value per individual with its standard error and confidence interval."""

    value: float
    std_err: float
    ci: tuple[float, float]


def true_policy_value(true_profit, assignment) -> float:
    """Mean true profit per individual of an assignment.

    Parameters
    ----------
    true_profit : array-like of shape (n, m) or DataFrame
        True expected (incremental) profit, e.g. ``Experiment.true_profit(grid)``.
    assignment : array-like of shape (n,)
        Column index of each individual.

    Returns
    -------
    float
        :math:`\\frac1n \\sum_i P_{i, a(i)}`.

    Examples
    --------
    >>> true_policy_value([[0.0, 2.0], [0.0, -1.0]], [1, 0])
    1.0
    """
    P = check_matrix(true_profit, "true_profit")[0]
    a = check_indices(assignment, *P.shape, "assignment")
    return float(P[np.arange(len(P)), a].mean())


def share_of_full(profits, assignment) -> float:
    """Share of full personalization's profit that an assignment achieves.

    Parameters
    ----------
    profits : array-like of shape (n, m) or DataFrame
        Incremental profits (control column 0), true or estimated.
    assignment : array-like of shape (n,)
        Column index of each individual.

    Returns
    -------
    float
        :math:`\\sum_i P_{i,a(i)} / \\sum_i \\max_t P_{it}`; NaN when full personalization's
        profit is not positive (the share is then undefined).

    Examples
    --------
    >>> share_of_full([[0.0, 2.0], [0.0, 2.0]], [1, 0])
    0.5
    """
    P = check_matrix(profits)[0]
    a = check_indices(assignment, *P.shape, "assignment")
    full = P.max(axis=1).sum()
    if full <= 0:
        logger.warning("full personalization's profit is %g; the share is undefined", full)
        return float("nan")
    return float(P[np.arange(len(P)), a].sum() / full)


def dr_policy_value(outcome, T, propensity, mu_hat, policy, *, reference=None, level: float = 0.95) -> PolicyValue:
    """Doubly robust (AIPW) estimate of a policy's mean outcome, from experimental data.

    .. math::

        \\hat V(\\pi) = \\frac1n \\sum_i \\Big[\\hat\\mu_i(\\pi_i)
            + \\frac{1\\{T_i = \\pi_i\\}}{e_i}\\,\\big(Y_i - \\hat\\mu_i(T_i)\\big)\\Big]

    Unbiased whenever the propensities are right, whatever ``mu_hat`` (which only lowers the
    variance). ``mu_hat`` must not be fitted on these individuals' outcomes (score a held-out
    split). The standard error is the sample standard deviation of the bracket over
    :math:`\\sqrt n`; the interval is normal.

    Parameters
    ----------
    outcome : array-like of shape (n,)
        Observed outcome :math:`Y_i` (e.g. ``Experiment.profit``).
    T : array-like of shape (n,), int
        Arm received, ``0..n_arms-1``.
    propensity : float, array-like of shape (n,) or (n, n_arms)
        Probability of the arm received (scalar or per individual), or of every arm.
    mu_hat : array-like of shape (n, n_arms)
        Predicted outcome under every arm (same scale as ``outcome``).
    policy : array-like of shape (n,), int
        Arm the policy gives each individual.
    reference : array-like of shape (n,), int, optional
        A second policy (e.g. all zeros, control for everyone); then the difference
        :math:`V(\\pi) - V(\\text{reference})` is estimated with its paired standard error.
    level : float, default=0.95
        Confidence level of the interval.

    Returns
    -------
    PolicyValue
        ``(value, std_err, (lo, hi))``.

    Raises
    ------
    ValueError
        NaN/inf, lengths that differ, arms outside ``0..n_arms-1``, propensities outside
        (0, 1], ``level`` outside (0, 1), fewer than 2 individuals.

    Examples
    --------
    >>> v = dr_policy_value([1.0, 0.0, 3.0, 2.0], [0, 1, 1, 0], 0.5,
    ...                     [[1.0, 2.0]] * 4, [1, 1, 1, 1])
    >>> round(v.value, 3)
    1.5
    """
    y = check_vector(outcome, "outcome", float)
    n = y.size
    if n < 2:
        raise ValueError(f"need at least 2 individuals for a standard error, got {n}")
    mu = np.asarray(mu_hat, dtype=float)
    if mu.ndim != 2 or mu.shape[0] != n or mu.shape[1] < 1:
        raise ValueError(f"mu_hat must have shape ({n}, n_arms), got {mu.shape}")
    if not np.all(np.isfinite(mu)):
        raise ValueError("mu_hat contains NaN or inf")
    n_arms = mu.shape[1]
    t = check_indices(T, n, n_arms, "T")
    e = np.asarray(propensity, dtype=float)
    if e.ndim == 2:
        if e.shape != mu.shape:
            raise ValueError(f"propensity as a matrix must have shape {mu.shape}, got {e.shape}")
        e = e[np.arange(n), t]
    e = np.broadcast_to(e, (n,)) if e.ndim == 0 else e
    if e.shape != (n,):
        raise ValueError(f"propensity must be a scalar or have shape ({n},) or ({n}, {n_arms}), got {e.shape}")
    if not np.all(np.isfinite(e)) or np.any(e <= 0) or np.any(e > 1):
        raise ValueError("propensity must lie in (0, 1]")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")

    rows = np.arange(n)
    residual = (y - mu[rows, t]) / e

    def scores(pi: np.ndarray) -> np.ndarray:
        return mu[rows, pi] + (t == pi) * residual

    psi = scores(check_indices(policy, n, n_arms, "policy"))
    if reference is not None:
        psi = psi - scores(check_indices(reference, n, n_arms, "reference"))
    value = float(psi.mean())
    std_err = float(psi.std(ddof=1) / np.sqrt(n))
    half = float(norm.ppf(0.5 + level / 2)) * std_err
    return PolicyValue(value, std_err, (value - half, value + half))


def kmeans_on_covariates(X, profits, K: int, *, seed: int | np.random.Generator | None = 0,
                         n_init: int = 10) -> Policy:
    """Segment individuals by k-means on their covariates; give each segment its best column.

    Numeric covariates are standardized; categorical ones (dtype category, object, string or
    bool) are one-hot encoded and then standardized too. Each segment gets the column with
    the largest summed profit over its members.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n, p)
    profits : array-like of shape (n, m) or DataFrame
        Estimated (incremental) profits.
    K : int
        Number of segments (at most n are formed); segments may share a column, so the menu
        can be smaller than K.
    seed : int, Generator or None, default=0
        Seed of KMeans' initializations.
    n_init : int, default=10
        KMeans restarts.

    Returns
    -------
    Policy
        ``segment_on="X"``: :meth:`Policy.assign` needs ``X``.
    """
    P = check_matrix(profits)[0]
    frame = as_frame(X)
    if len(frame) != len(P):
        raise ValueError(f"X has {len(frame)} rows but profits has {len(P)}")
    check_frame_complete(frame)
    categorical = [c for c in frame.columns if is_categorical(frame[c])]
    encode = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)],
                               remainder="passthrough")
    segmenter = Pipeline([("encode", encode), ("scale", StandardScaler()),
                          ("kmeans", _kmeans(K, len(P), seed, n_init))])
    labels = segmenter.fit_predict(frame)
    return _segment_policy("kmeans_X", P, labels, segmenter, "X")


def kmeans_on_effects(profits, K: int, *, seed: int | np.random.Generator | None = 0,
                      n_init: int = 10) -> Policy:
    """Segment individuals by k-means on their estimated profit vectors; best column per segment.

    The profit vectors are clustered on their own scale (profit units are comparable
    across columns, and standardizing would inflate columns with little variation).

    Parameters
    ----------
    profits : array-like of shape (n, m) or DataFrame
        Estimated (incremental) profits or CATEs.
    K : int
        Number of segments (at most n are formed).
    seed : int, Generator or None, default=0
        Seed of KMeans' initializations.
    n_init : int, default=10
        KMeans restarts.

    Returns
    -------
    Policy
        ``segment_on="profits"``.
    """
    P = check_matrix(profits)[0]
    segmenter = _kmeans(K, len(P), seed, n_init)
    labels = segmenter.fit_predict(P)
    return _segment_policy("kmeans_effects", P, labels, segmenter, "profits")


def best_on_grid(profits, K: int, columns, *, name: str = "grid", time_limit: float | None = None) -> Policy:
    """The best menu of at most K columns chosen among ``columns`` only.

    Solved exactly with :func:`coarse_mip.solve` on the restricted matrix, so the gap to the
    unrestricted optimum is the price of prespecifying the candidates.

    Parameters
    ----------
    profits : array-like of shape (n, m) or DataFrame
    K : int
    columns : sequence of int
        Allowed column indices, e.g. those of the experimental arms or ``range(0, m, 5)``.
    name : str, default="grid"
    time_limit : float, optional
        Passed to the solver; on expiry the best menu found is used.

    Returns
    -------
    Policy
    """
    P = check_matrix(profits)[0]
    cols = check_columns(columns, P.shape[1], "columns")
    K = check_K(K)
    sol = solve(P[:, cols], K, "exact", time_limit=time_limit)
    if sol.status != "optimal":
        logger.warning("best_on_grid: solver status %s (gap %.3g)", sol.status, sol.gap)
    return Policy.from_menu(P, cols[list(sol.treatments)], name)


def best_single(profits) -> Policy:
    """One column for everyone: the one with the largest total profit.

    Parameters
    ----------
    profits : array-like of shape (n, m) or DataFrame

    Returns
    -------
    Policy
    """
    P = check_matrix(profits)[0]
    return Policy.from_menu(P, [int(P.sum(axis=0).argmax())], "best_single")


def full_personalization(profits) -> Policy:
    """Every individual's own best column (the upper reference for every K).

    Parameters
    ----------
    profits : array-like of shape (n, m) or DataFrame

    Returns
    -------
    Policy
        Offers every column; the in-sample assignment is the row-wise argmax.
    """
    P = check_matrix(profits)[0]
    return Policy.from_menu(P, np.arange(P.shape[1]), "full")


def _kmeans(K: int, n: int, seed, n_init: int) -> KMeans:
    K = check_K(K)
    n_init = check_int(n_init, "n_init")
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**31 - 1))  # sklearn takes ints or RandomState, not Generator
    return KMeans(n_clusters=min(K, n), n_init=n_init, random_state=seed)


def _segment_policy(name: str, P: np.ndarray, labels: np.ndarray, segmenter, segment_on: str) -> Policy:
    n_segments = int(labels.max()) + 1
    totals = np.zeros((n_segments, P.shape[1]))
    np.add.at(totals, labels, P)
    segment_treatment = totals.argmax(axis=1)
    assignment = segment_treatment[labels]
    logger.debug("%s: %d segments, %d distinct columns", name, n_segments, np.unique(segment_treatment).size)
    return Policy(name, tuple(int(t) for t in np.unique(segment_treatment)), assignment,
                  float(P[np.arange(len(P)), assignment].sum()), segmenter, segment_treatment, segment_on)
