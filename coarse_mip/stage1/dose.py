"""Outcomes under many dose levels from one model: the dose as a feature (an S-learner).

With many randomized amounts, some of them rare (Thornton's 27 voucher amounts, two of them
given to 2 and 3 people), one model per arm cannot be fitted. One gradient-boosted regression
of the outcome on the covariates and the dose pools every arm, and a monotone constraint in
the dose (``monotone="increasing"``: a larger voucher never lowers attendance, a larger
discount never lowers purchases) regularizes it where the data are thin. The dose is
randomized, so the regression is a causal dose-response model without further adjustment.
"""

from __future__ import annotations

import logging
import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .._validation import as_frame, check_weights
from .estimate import encode, fit_encoder

__all__ = ["DoseResponseEstimator", "MONOTONE"]

logger = logging.getLogger(__name__)

MONOTONE = {"increasing": 1, "decreasing": -1, None: 0}


class DoseResponseEstimator(BaseEstimator):
    """Expected outcome of every individual at every experimental dose, from one pooled model.

    Parameters
    ----------
    monotone : {"increasing", "decreasing", None}, default="increasing"
        Shape constraint of the outcome in the dose.
    learning_rate : float, default=0.05
    max_leaf_nodes : int, default=15
    min_samples_leaf : int, default=50
    max_iter : int, default=300
        Boosting iterations (early stopping on a seeded 10 % split picks fewer).
    random_state : int or None, default=0

    Attributes
    ----------
    arms_ : ndarray of shape (n_arms,)
        The doses (ascending) at which :meth:`predict` answers.
    model_ : HistGradientBoostingRegressor
        Fitted on the encoded covariates and the dose (last feature).
    feature_names_in_, categorical_features_, encoder_
        The covariate encoding (as :class:`ArmOutcomeEstimator`).
    fit_time_ : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); dose = rng.choice([0.0, 1.0, 2.0], 400)
    >>> y = (rng.random(400) < 0.3 + 0.2 * dose).astype(float)
    >>> est = DoseResponseEstimator(random_state=0).fit(X, np.searchsorted([0, 1, 2], dose), y, arms=[0, 1, 2])
    >>> mu = est.predict(X)
    >>> mu.shape, bool((np.diff(mu, axis=1) >= -1e-12).all())
    ((400, 3), True)
    """

    def __init__(self, *, monotone: str | None = "increasing", learning_rate: float = 0.05,
                 max_leaf_nodes: int = 15, min_samples_leaf: int = 50, max_iter: int = 300,
                 random_state: int | None = 0):
        self.monotone = monotone
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, T, y, *, arms, sample_weight=None, groups=None) -> "DoseResponseEstimator":
        """Fit on experiment data: ``T`` (n,) arm indices into ``arms`` (the doses), ``y`` (n,).

        ``groups`` is accepted for a common interface with the per-arm estimator (one pooled
        model has no cross-fitting folds to keep clusters in).
        """
        if self.monotone not in MONOTONE:
            raise ValueError(f"monotone must be one of {list(MONOTONE)}, got {self.monotone!r}")
        if not isinstance(self.learning_rate, numbers.Real) or not 0 < self.learning_rate <= 1:
            raise ValueError(f"learning_rate must be in (0, 1], got {self.learning_rate!r}")
        start = time.perf_counter()
        frame = as_frame(X)
        arms = np.asarray(arms, dtype=float)
        T = np.asarray(T)
        y = np.asarray(y, dtype=float)
        if T.ndim != 1 or y.ndim != 1 or not len(frame) == len(T) == len(y):
            raise ValueError(f"X, T and y must have the same number of rows, got {len(frame)}, {T.shape} and {y.shape}")
        if not np.issubdtype(T.dtype, np.integer) or T.size == 0 or T.min() < 0 or T.max() >= arms.size:
            raise ValueError(f"T must hold arm indices 0..{arms.size - 1}")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf")
        sw = None if sample_weight is None else check_weights(sample_weight, len(y), "sample_weight")
        Z = fit_encoder(self, frame)
        cst = [0] * Z.shape[1] + [MONOTONE[self.monotone]]
        self.model_ = HistGradientBoostingRegressor(
            learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf, max_iter=self.max_iter, early_stopping=True,
            monotonic_cst=cst, random_state=self.random_state).fit(np.hstack([Z, arms[T][:, None]]), y,
                                                                  sample_weight=sw)
        self.arms_ = arms
        self.n_arms_ = arms.size
        self.fit_time_ = time.perf_counter() - start
        logger.info("fitted the dose-response model on n=%d, %d doses in %.2f s", len(y), arms.size, self.fit_time_)
        return self

    def predict(self, X) -> np.ndarray:
        """Expected outcome at every arm dose, shape (n, n_arms)."""
        check_is_fitted(self, "model_")
        Z = encode(self, X)
        return np.column_stack([self.model_.predict(np.hstack([Z, np.full((len(Z), 1), d)])) for d in self.arms_])
