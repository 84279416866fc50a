"""A two-part model whose purchase probability is logistic in the dose with covariate-varying coefficients.

The marketing workhorse for a discount ladder is logit demand with heterogeneous price
sensitivity: :math:`\\Pr(Y \\ne 0 \\mid x, d) = \\sigma(\\alpha(x) + \\beta(x)\\, d)`. Here
:math:`\\alpha` and :math:`\\beta` are additive in cubic splines of the numeric covariates and
one-hot levels of the categorical ones, fitted jointly on every arm by L2-penalized logistic
regression (the penalty chosen by 3-fold log loss). The amount among non-zero outcomes is the
pooled gradient-boosted regression of :class:`~coarse_mip.stage1.dose.DoseResponseEstimator`.
Every individual informs both coefficient functions, so the dose response is estimated from
all arms at once. It is one candidate of ``CoarsePolicy(estimator="auto")``: the cross-fitted
DR loss, not this docstring, decides whether its structure fits an experiment.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.preprocessing import OneHotEncoder, SplineTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

from .._validation import as_frame, check_int, is_categorical
from .estimate import check_arm_data, check_zero_inflated, encode, fit_encoder, outcome_boosting

__all__ = ["LogitDoseEstimator", "PENALTY_ROWS"]

#: Rows the penalty is chosen on (a seeded sample when there are more).
PENALTY_ROWS = 200_000

logger = logging.getLogger(__name__)


class LogitDoseEstimator(BaseEstimator):
    """Expected outcome at every dose: logistic participation in (splines(x), splines(x) · d) times the amount.

    Parameters
    ----------
    n_knots : int, default=5
        Knots of each numeric covariate's cubic spline (uniform over its training range).
    Cs : sequence of float, default=(0.01, 0.1, 1.0)
        Inverse penalties tried (on standardized features), chosen by 3-fold log loss on at
        most ``PENALTY_ROWS`` rows.
    random_state : int or None, default=0

    Attributes
    ----------
    arms_ : ndarray of shape (n_arms,)
    basis_ : ColumnTransformer
        Splines of the numeric covariates, one-hot of the categorical ones.
    scaler_ : StandardScaler
    C_ : float
        The inverse penalty chosen.
    participation_ : LogisticRegressionCV or LogisticRegression
        The purchase model (refitted on every row at the chosen ``C_`` above ``PENALTY_ROWS``).
    amount_model_ : HistGradientBoostingRegressor
    feature_names_in_, categorical_features_, encoder_
        The covariate encoding of the amount model.
    fit_time_ : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 2)); T = rng.integers(3, size=2000)
    >>> d = np.array([0.0, 0.1, 0.2])[T]
    >>> y = (rng.random(2000) < 1 / (1 + np.exp(1 - (5 + 3 * X[:, 0]) * d))) * 10.0
    >>> LogitDoseEstimator().fit(X, T, y, arms=[0.0, 0.1, 0.2]).predict(X[:3]).shape
    (3, 3)
    """

    def __init__(self, *, n_knots: int = 5, Cs=(0.01, 0.1, 1.0), random_state: int | None = 0):
        self.n_knots = n_knots
        self.Cs = Cs
        self.random_state = random_state

    def fit(self, X, T, y, *, arms, sample_weight=None, groups=None) -> "LogitDoseEstimator":
        """Fit on experiment data: ``T`` (n,) arm indices into ``arms`` (numeric doses), ``y`` (n,)
        with both zero and non-zero values. ``groups`` is accepted for a common interface."""
        check_int(self.n_knots, "n_knots", 2)
        start = time.perf_counter()
        arms = np.asarray(arms, dtype=float)
        frame, T, y, sw = check_arm_data(X, T, y, arms.size, sample_weight)
        nonzero = check_zero_inflated(y, "the logit dose model")
        Z = fit_encoder(self, frame)
        categorical = [c for c in frame.columns if is_categorical(frame[c])]
        numeric = [c for c in frame.columns if c not in categorical]
        self.basis_ = ColumnTransformer(
            [("splines", SplineTransformer(n_knots=self.n_knots, degree=3, knots="uniform"), numeric),
             ("levels", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)]).fit(frame)
        self.arms_ = arms
        self.n_arms_ = arms.size
        B = np.asarray(self.basis_.transform(frame), dtype=float)
        F = self._features(B, arms[T])
        self.scaler_ = StandardScaler().fit(F)
        X_std = self.scaler_.transform(F)
        # The penalty is chosen by 3-fold log loss on at most PENALTY_ROWS rows, then the model is
        # refitted on all of them: at 10^6 rows the cross-validation dominated the fit.
        rows = np.arange(len(y))
        if len(y) > PENALTY_ROWS:
            rows = np.sort(np.random.default_rng(self.random_state).choice(len(y), PENALTY_ROWS, replace=False))
        with warnings.catch_warnings():
            # scikit-learn 1.8+ announces new defaults (l1_ratios, fitted attributes) for what we use as
            # is: an L2 penalty and C_; the arguments that silence it do not exist in earlier versions.
            warnings.filterwarnings("ignore", category=FutureWarning, module="sklearn.linear_model")
            search = LogisticRegressionCV(Cs=list(self.Cs), cv=3, scoring="neg_log_loss", max_iter=2000,
                                          random_state=self.random_state)
            search.fit(X_std[rows], nonzero[rows], sample_weight=None if sw is None else sw[rows])
        self.C_ = float(np.ravel(search.C_)[0])
        self.participation_ = search if rows.size == len(y) else LogisticRegression(C=self.C_, max_iter=2000).fit(
            X_std, nonzero, sample_weight=sw)
        dose = arms[T][:, None]
        self.amount_model_ = outcome_boosting(self.random_state, max_iter=300).fit(
            np.hstack([Z, dose])[nonzero], y[nonzero], sample_weight=None if sw is None else sw[nonzero])
        self.fit_time_ = time.perf_counter() - start
        logger.info("fitted the logit dose model on n=%d (%d features, C=%.3g) in %.2f s", len(y), F.shape[1],
                    self.C_, self.fit_time_)
        return self

    def predict(self, X) -> np.ndarray:
        """Expected outcome at every arm dose, shape (n, n_arms)."""
        check_is_fitted(self, "participation_")
        frame = as_frame(X)
        Z = encode(self, frame)
        B = np.asarray(self.basis_.transform(frame[list(self.feature_names_in_)]), dtype=float)
        out = np.empty((len(Z), self.n_arms_))
        for k, d in enumerate(self.arms_):
            dose = np.full(len(Z), d)
            p = self.participation_.predict_proba(self.scaler_.transform(self._features(B, dose)))[:, 1]
            out[:, k] = p * self.amount_model_.predict(np.hstack([Z, dose[:, None]]))
        return out

    @staticmethod
    def _features(B: np.ndarray, dose: np.ndarray) -> np.ndarray:
        """(basis, basis · dose, dose): intercept and dose slope both varying with the covariates."""
        return np.hstack([B, B * dose[:, None], dose[:, None]])
