"""Outcomes at every dose from EconML's DML with a continuous treatment and a treatment featurizer.

The effect of dose :math:`d` against the control is :math:`\\theta(x)^\\top \\phi(d)` with
:math:`\\phi(d) = (d, d^2)`: every customer, whatever the arm, informs both coefficients, so
strength is shared across the doses instead of estimated arm by arm and smoothed afterwards.
``LinearDML`` residualizes the outcome on the covariates (gradient boosting, cross-fitted)
and the featurized dose on nothing (it is randomized: ``DummyRegressor``), then fits
:math:`\\theta(x)` linear in the encoded covariates. The control baseline :math:`\\mu_0` is
the per-arm estimator's pooled regression (:class:`~coarse_mip.stage1.ArmOutcomeEstimator`).
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyRegressor
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils.validation import check_is_fitted

from .._validation import check_int
from .estimate import check_arm_data, encode, fit_encoder, outcome_boosting

__all__ = ["DoseDMLEstimator"]

logger = logging.getLogger(__name__)


class DoseDMLEstimator(BaseEstimator):
    """Expected outcome at every experimental dose from ``LinearDML`` on the featurized dose.

    Parameters
    ----------
    degree : int, default=2
        Degree of the dose featurizer :math:`(d, \\dots, d^{degree})`.
    cv : int, default=3
        Folds of the nuisance cross-fitting.
    random_state : int or None, default=0

    Attributes
    ----------
    arms_ : ndarray of shape (n_arms,)
        The doses, ascending, control (0) first.
    cate_model_ : econml.dml.LinearDML
    baseline_model_ : HistGradientBoostingRegressor
        Outcome on the encoded covariates and the dose, read at dose 0.
    feature_names_in_, categorical_features_, encoder_
        The covariate encoding.
    fit_time_ : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2)); T = rng.integers(3, size=600)
    >>> y = 1 + X[:, 0] + T * (1 + X[:, 1]) + rng.normal(size=600)
    >>> DoseDMLEstimator(random_state=0).fit(X, T, y, arms=[0.0, 1.0, 2.0]).predict(X[:4]).shape
    (4, 3)
    """

    def __init__(self, *, degree: int = 2, cv: int = 3, random_state: int | None = 0):
        self.degree = degree
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, T, y, *, arms, sample_weight=None, groups=None) -> "DoseDMLEstimator":
        """Fit on experiment data: ``T`` (n,) arm indices into ``arms`` (numeric doses, 0 first), ``y`` (n,)."""
        from econml.dml import LinearDML

        check_int(self.degree, "degree", 1)
        check_int(self.cv, "cv", 2)
        start = time.perf_counter()
        arms = np.asarray(arms, dtype=float)
        if arms.ndim != 1 or arms.size < 2 or arms[0] != 0.0:
            raise ValueError(f"arms must be numeric doses from the control 0, got {arms.tolist()}")
        frame, T, y, sw = check_arm_data(X, T, y, arms.size, sample_weight)
        Z = fit_encoder(self, frame)
        dose = arms[T][:, None]
        self.cate_model_ = LinearDML(model_y=outcome_boosting(self.random_state), model_t=DummyRegressor(),
                                     treatment_featurizer=PolynomialFeatures(self.degree, include_bias=False),
                                     discrete_treatment=False, cv=self.cv, random_state=self.random_state)
        with warnings.catch_warnings():
            # One-hot levels beside the intercept make the final stage's covariance singular; we
            # use the point estimates only, never its inference.
            warnings.filterwarnings("ignore", message="Co-variance matrix is underdetermined")
            self.cate_model_.fit(y, dose, X=Z, sample_weight=sw, groups=groups)
        self.baseline_model_ = outcome_boosting(self.random_state).fit(np.hstack([Z, dose]), y, sample_weight=sw)
        self.arms_ = arms
        self.n_arms_ = arms.size
        self.fit_time_ = time.perf_counter() - start
        logger.info("fitted LinearDML on the dose (degree %d) on n=%d in %.2f s", self.degree, len(y), self.fit_time_)
        return self

    def predict(self, X) -> np.ndarray:
        """Expected outcome at every arm dose, control first, shape (n, n_arms)."""
        check_is_fitted(self, "cate_model_")
        Z = encode(self, X)
        n = len(Z)
        mu0 = self.baseline_model_.predict(np.hstack([Z, np.zeros((n, 1))]))
        zero = np.zeros((n, 1))
        effects = [self.cate_model_.effect(Z, T0=zero, T1=np.full((n, 1), d)) for d in self.arms_[1:]]
        return np.column_stack([mu0, *(mu0 + e.reshape(n) for e in effects)])

