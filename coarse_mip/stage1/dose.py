"""Outcomes under every arm from one pooled model: the treatment as a feature (an S-learner).

With many randomized amounts, some of them rare (Thornton's 27 voucher amounts, two of them
given to 2 and 3 people), one model per arm cannot be fitted. One gradient-boosted regression
of the outcome on the covariates and the dose pools every arm, and a monotone constraint in
the dose (``monotone="increasing"``: a larger voucher never lowers attendance, a larger
discount never lowers purchases) regularizes it where the data are thin. The treatment is
randomized, so the regression is a causal model without further adjustment. Labelled arms
(e-mail versions) enter one-hot.

Outcomes such as sales or spend are mostly zeros with a long tail. ``two_part=True`` models
them as :math:`\\Pr(Y \\ne 0 \\mid x, t)\\, E[Y \\mid Y \\ne 0, x, t]`: a classifier (log loss)
for whether the customer buys and a regression of the amount among buyers, both pooled over
the arms. The classifier sees every customer's 0/1 outcome without the basket's noise: on
the promotions simulator (100,000 customers, 7 arms) the held-out RMSE of the per-arm
incremental profit was 0.54 against 0.69 for the one-part model and 0.80 for the per-arm
DRLearner.
"""

from __future__ import annotations

import logging
import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted

from .estimate import check_arm_data, check_zero_inflated, encode, fit_encoder

__all__ = ["DoseResponseEstimator", "MONOTONE"]

logger = logging.getLogger(__name__)

MONOTONE = {"increasing": 1, "decreasing": -1, None: 0}


class DoseResponseEstimator(BaseEstimator):
    """Expected outcome of every individual at every experimental dose, from one pooled model.

    Parameters
    ----------
    monotone : {"increasing", "decreasing", None}, default="increasing"
        Shape constraint of the outcome in the dose (numeric doses only; labelled arms have
        none). With ``two_part`` it constrains both parts.
    two_part : bool, default=False
        Model ``P(Y != 0) * E[Y | Y != 0]`` (zero-inflated outcomes: sales, spend) instead of
        ``E[Y]`` directly.
    learning_rate : float, default=0.05
    max_leaf_nodes : int, default=15
    min_samples_leaf : int, default=50
    max_iter : int, default=300
        Boosting iterations (early stopping on a seeded 10 % split picks fewer).
    random_state : int or None, default=0

    Attributes
    ----------
    arms_ : ndarray of shape (n_arms,)
        The doses (ascending) or labels at which :meth:`predict` answers.
    model_ : HistGradientBoostingRegressor
        Fitted on the encoded covariates and the treatment features (the dose, or the one-hot
        label, last); with ``two_part``, the amount among non-zero outcomes.
    nonzero_model_ : HistGradientBoostingClassifier or None
        With ``two_part``: whether the outcome is non-zero.
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

    def __init__(self, *, monotone: str | None = "increasing", two_part: bool = False, learning_rate: float = 0.05,
                 max_leaf_nodes: int = 15, min_samples_leaf: int = 50, max_iter: int = 300,
                 random_state: int | None = 0):
        self.monotone = monotone
        self.two_part = two_part
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, T, y, *, arms, sample_weight=None, groups=None) -> "DoseResponseEstimator":
        """Fit on experiment data: ``T`` (n,) arm indices into ``arms`` (numeric doses, or
        labels), ``y`` (n,).

        ``groups`` is accepted for a common interface with the per-arm estimator (one pooled
        model has no cross-fitting folds to keep clusters in).
        """
        if self.monotone not in MONOTONE:
            raise ValueError(f"monotone must be one of {list(MONOTONE)}, got {self.monotone!r}")
        if not isinstance(self.learning_rate, numbers.Real) or not 0 < self.learning_rate <= 1:
            raise ValueError(f"learning_rate must be in (0, 1], got {self.learning_rate!r}")
        start = time.perf_counter()
        arms = np.asarray(arms)
        self.dose_ = np.issubdtype(arms.dtype, np.number) and not np.issubdtype(arms.dtype, np.bool_)
        arms = arms.astype(float) if self.dose_ else arms.astype(object)
        frame, T, y, sw = check_arm_data(X, T, y, arms.size, sample_weight)
        self.arms_ = arms
        self.n_arms_ = arms.size
        Z = fit_encoder(self, frame)
        features = np.hstack([Z, self._treatment(T)])
        n_t = features.shape[1] - Z.shape[1]
        cst = [0] * Z.shape[1] + [MONOTONE[self.monotone] if self.dose_ else 0] * n_t
        self.nonzero_model_ = None
        if self.two_part:
            nonzero = check_zero_inflated(y, "two_part")
            self.nonzero_model_ = HistGradientBoostingClassifier(**self._boosting(cst)).fit(
                features, nonzero, sample_weight=sw)
            features, y, sw = features[nonzero], y[nonzero], None if sw is None else sw[nonzero]
        self.model_ = HistGradientBoostingRegressor(**self._boosting(cst)).fit(features, y, sample_weight=sw)
        self.fit_time_ = time.perf_counter() - start
        logger.info("fitted the pooled %s model on n=%d, %d arms in %.2f s", "two-part" if self.two_part else "outcome",
                    len(T), arms.size, self.fit_time_)
        return self

    def predict(self, X) -> np.ndarray:
        """Expected outcome at every arm, shape (n, n_arms)."""
        check_is_fitted(self, "model_")
        Z = encode(self, X)
        out = np.empty((len(Z), self.n_arms_))
        for k in range(self.n_arms_):
            features = np.hstack([Z, self._treatment(np.full(len(Z), k))])
            out[:, k] = self.model_.predict(features)
            if self.nonzero_model_ is not None:
                out[:, k] *= self.nonzero_model_.predict_proba(features)[:, 1]
        return out

    def _treatment(self, T: np.ndarray) -> np.ndarray:
        """The arm as model features: the dose (n, 1), or the one-hot label without the control (n, n_arms - 1)."""
        if self.dose_:
            return self.arms_[T][:, None]
        return np.eye(self.n_arms_)[T][:, 1:]

    def _boosting(self, monotonic_cst: list) -> dict:
        return dict(learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
                    min_samples_leaf=self.min_samples_leaf, max_iter=self.max_iter, early_stopping=True,
                    monotonic_cst=monotonic_cst, random_state=self.random_state)
