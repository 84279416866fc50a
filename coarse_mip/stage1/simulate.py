"""A seeded promotions field experiment with a known truth.

Customers receive one discount, drawn uniformly from the experimental arms, and then buy or
not. Their price response is smooth and heterogeneous, so the best discount differs between
customers and lies between the arms for many of them. The simulator also knows every
customer's *expected* incremental profit at any discount, which is what evaluation needs and
what real data never reveals.

Model (all parameters of the population are fixed constants of this module, so two calls
with different seeds draw different customers from the same population):

.. math::

    p_i(d) = \\sigma(a_i + b_i d), \\qquad
    \\mathrm{purchase}_i \\sim \\mathrm{Bernoulli}(p_i(d_i)), \\qquad
    \\mathrm{basket}_i = v_i \\, e^{s \\varepsilon_i - s^2/2}

with :math:`\\sigma` the logistic function, intercept :math:`a_i`, slope :math:`b_i > 0` and
expected basket value :math:`v_i` (at list price) depending on the covariates. Outcomes:

- ``sales = purchase * basket`` (list-price value of what was bought),
- ``spend = sales * (1 - d)`` (what the customer paid),
- ``profit = sales * (margin - d)`` (spend minus the cost of goods ``(1 - margin) * sales``).

Expected profit at discount ``d`` is :math:`\\pi_i(d) = v_i\\, p_i(d)\\,(\\text{margin} - d)`
and the true incremental profit is :math:`\\pi_i(d) - \\pi_i(0)`.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Experiment", "simulate_promotions"]

logger = logging.getLogger(__name__)

DEFAULT_ARMS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30)

# The price response reads the first _N_SIGNAL numeric covariates; the rest are noise, as
# most columns of a real customer table are.
_N_SIGNAL = 6
_REGIONS = ("north", "south", "east", "west")
_CHANNELS = ("web", "app", "store")
_TIERS = ("new", "regular", "vip")
_REGION_P = (0.3, 0.3, 0.2, 0.2)
_CHANNEL_P = (0.5, 0.3, 0.2)
_TIER_P = (0.3, 0.55, 0.15)
# Effects of the categorical levels, in the order of the tuples above.
_REGION_INTERCEPT = np.array([0.0, -0.2, 0.15, 0.1])
_CHANNEL_SLOPE = np.array([0.0, 0.3, -0.2])
_CHANNEL_BASKET = np.array([0.0, -0.1, 0.2])
_TIER_INTERCEPT = np.array([-0.5, 0.0, 0.9])
_TIER_SLOPE = np.array([0.4, 0.0, -0.6])
_BASKET_NOISE = 0.3
_CORRELATION = 0.3


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


@dataclass(frozen=True, eq=False)
class Experiment:
    """Data of a randomized promotions experiment plus its (simulated) ground truth.

    Attributes
    ----------
    X : DataFrame of shape (n, p)
        Covariates: numeric columns ``x1..x{n_numeric}`` and the categorical columns
        ``region``, ``channel`` and ``tier``.
    T : ndarray of shape (n,), int
        Index into ``arms`` of the discount each customer received (0 is control).
    arms : ndarray of shape (n_arms,)
        Discounts of the experimental arms, ascending, ``arms[0] == 0``.
    purchase : ndarray of shape (n,)
        1.0 if the customer bought, else 0.0.
    sales : ndarray of shape (n,)
        List-price value bought, ``purchase * basket``.
    spend : ndarray of shape (n,)
        Amount paid, ``sales * (1 - arms[T])``.
    profit : ndarray of shape (n,)
        Realized profit, ``sales * (margin - arms[T])``.
    propensity : ndarray of shape (n,)
        Probability of the arm each customer received (``1 / n_arms``, known by design).
    margin : float
        Gross margin as a share of list price.
    intercept, slope, basket_value : ndarray of shape (n,)
        Ground truth, hidden in real data: purchase log-odds at no discount, their increase
        per unit of discount, and the expected list-price basket value.
    """

    X: pd.DataFrame
    T: np.ndarray
    arms: np.ndarray
    purchase: np.ndarray
    sales: np.ndarray
    spend: np.ndarray
    profit: np.ndarray
    propensity: np.ndarray
    margin: float
    intercept: np.ndarray = field(repr=False)
    slope: np.ndarray = field(repr=False)
    basket_value: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.T)

    def __repr__(self) -> str:
        return (f"Experiment(n={self.n}, covariates={self.X.shape[1]}, arms={self.arms.tolist()}, "
                f"margin={self.margin}, purchase_rate={self.purchase.mean() if self.n else float('nan'):.3f})")

    def expected_sales(self, discounts) -> np.ndarray:
        """True expected list-price sales ``v_i * p_i(d)`` at each discount.

        Parameters
        ----------
        discounts : array-like of shape (m,)
            Discounts in [0, 1).

        Returns
        -------
        ndarray of shape (n, m)
        """
        d = _check_discounts(discounts)
        return self.basket_value[:, None] * _sigmoid(self.intercept[:, None] + self.slope[:, None] * d)

    def true_profit(self, discounts) -> np.ndarray:
        """True expected incremental profit ``pi_i(d) - pi_i(0)`` at each discount.

        For evaluation only: this is what an estimated profit matrix tries to recover.

        Parameters
        ----------
        discounts : array-like of shape (m,)
            Discounts in [0, 1), any grid (not only the arms).

        Returns
        -------
        ndarray of shape (n, m)
            Zero in every column whose discount is 0.
        """
        d = _check_discounts(discounts)
        level = self.expected_sales(d) * (self.margin - d)
        control = self.basket_value * _sigmoid(self.intercept) * self.margin
        return level - control[:, None]

    def subset(self, idx) -> "Experiment":
        """The customers ``idx`` (integer indices or a boolean mask of length n), same population."""
        idx = np.asarray(idx)
        if idx.dtype == bool:
            if idx.shape != (self.n,):
                raise ValueError(f"boolean idx must have shape ({self.n},), got {idx.shape}")
            idx = np.flatnonzero(idx)
        elif idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"idx must be a 1-D integer array or a boolean mask, got {idx.dtype} "
                             f"of shape {idx.shape}")
        if idx.size and (idx.min() < -self.n or idx.max() >= self.n):
            raise ValueError(f"idx out of range for {self.n} customers")
        per_customer = {f.name: _readonly(getattr(self, f.name)[idx]) for f in dataclasses.fields(self)
                        if f.name not in ("X", "arms", "margin")}
        return dataclasses.replace(self, X=self.X.iloc[idx].reset_index(drop=True), **per_customer)


def simulate_promotions(n: int, *, arms=DEFAULT_ARMS, n_numeric: int = 10, margin: float = 0.35,
                        seed: int | np.random.Generator | None = 0) -> Experiment:
    """Simulate a randomized promotions experiment on ``n`` customers.

    Parameters
    ----------
    n : int
        Number of customers (>= 1).
    arms : sequence of float, default=(0, .05, .10, .15, .20, .25, .30)
        Discounts of the experimental arms, strictly increasing, in [0, 1), starting at 0
        (control).
    n_numeric : int, default=10
        Numeric covariates (>= 6; the first 6 drive the response, the rest are noise).
        Three categorical covariates are always added.
    margin : float, default=0.35
        Gross margin as a share of list price, in (0, 1].
    seed : int, Generator or None, default=0
        Seed of the customers drawn; the population's parameters do not depend on it.

    Returns
    -------
    Experiment

    Raises
    ------
    ValueError
        ``n < 1``, ``n_numeric < 6``, a margin outside (0, 1], or arms that are not
        strictly increasing in [0, 1) from 0.

    Examples
    --------
    >>> exp = simulate_promotions(1000, seed=1)
    >>> exp.X.shape, exp.T.shape, exp.true_profit([0.0, 0.1]).shape
    ((1000, 13), (1000,), (1000, 2))
    >>> float(abs(exp.true_profit([0.0])).max())
    0.0
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(n_numeric, bool) or not isinstance(n_numeric, (int, np.integer)) or n_numeric < _N_SIGNAL:
        raise ValueError(f"n_numeric must be an integer >= {_N_SIGNAL}, got {n_numeric!r}")
    if not np.isfinite(margin) or not 0.0 < margin <= 1.0:
        raise ValueError(f"margin must be in (0, 1], got {margin!r}")
    arms = _check_discounts(arms, name="arms")
    if arms[0] != 0.0 or np.any(np.diff(arms) <= 0):
        raise ValueError(f"arms must be strictly increasing and start at 0 (control), got {arms.tolist()}")
    rng = np.random.default_rng(seed)

    # AR(1)-correlated numeric covariates: real customer features are rarely independent.
    cov = _CORRELATION ** np.abs(np.subtract.outer(np.arange(n_numeric), np.arange(n_numeric)))
    x = rng.standard_normal((n, n_numeric)) @ np.linalg.cholesky(cov).T
    region = rng.choice(len(_REGIONS), size=n, p=_REGION_P)
    channel = rng.choice(len(_CHANNELS), size=n, p=_CHANNEL_P)
    tier = rng.choice(len(_TIERS), size=n, p=_TIER_P)

    intercept = (-1.2 + 0.6 * x[:, 0] - 0.4 * x[:, 3] + 0.3 * np.tanh(x[:, 4])
                 + _REGION_INTERCEPT[region] + _TIER_INTERCEPT[tier])
    slope = np.exp(np.log(7.0) + 0.45 * x[:, 1] + 0.3 * np.tanh(x[:, 2]) - 0.2 * np.abs(x[:, 5])
                   + _CHANNEL_SLOPE[channel] + _TIER_SLOPE[tier])
    basket_value = np.exp(3.4 + 0.3 * x[:, 0] + 0.2 * x[:, 2] + _CHANNEL_BASKET[channel])

    T = rng.integers(len(arms), size=n)
    d = arms[T]
    purchase = (rng.random(n) < _sigmoid(intercept + slope * d)).astype(float)
    basket = basket_value * np.exp(_BASKET_NOISE * rng.standard_normal(n) - _BASKET_NOISE ** 2 / 2)
    sales = purchase * basket

    X = pd.DataFrame(x, columns=[f"x{j + 1}" for j in range(n_numeric)])
    X["region"] = pd.Categorical.from_codes(region, categories=list(_REGIONS))
    X["channel"] = pd.Categorical.from_codes(channel, categories=list(_CHANNELS))
    X["tier"] = pd.Categorical.from_codes(tier, categories=list(_TIERS))
    logger.debug("simulated %d customers over %d arms (purchase rate %.3f)", n, len(arms), purchase.mean())
    return Experiment(
        X=X, T=_readonly(T), arms=_readonly(arms), purchase=_readonly(purchase),
        sales=_readonly(sales), spend=_readonly(sales * (1.0 - d)), profit=_readonly(sales * (margin - d)),
        propensity=_readonly(np.full(n, 1.0 / len(arms))), margin=float(margin),
        intercept=_readonly(intercept), slope=_readonly(slope), basket_value=_readonly(basket_value))


def _check_discounts(discounts, name: str = "discounts") -> np.ndarray:
    d = np.asarray(discounts, dtype=float)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {d.shape}")
    if not np.all(np.isfinite(d)) or d.min() < 0.0 or d.max() >= 1.0:
        raise ValueError(f"{name} must be finite and in [0, 1), got {d.tolist()}")
    return d


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a
