"""The Hillstrom MineThatData e-mail experiment (2008) as Stage I input.

64,000 customers were randomized with probability 1/3 each to no e-mail (control), a men's
merchandise e-mail or a women's merchandise e-mail; spend over the next two weeks was
recorded. The file is not shipped with the package: pass its path (the repository's examples
read it from the shared data folder).

The data has no margin or e-mail cost, so a profit study assumes them:

.. math::

    \\text{profit}_i = \\text{margin} \\cdot \\text{spend}_i - \\text{cost} \\cdot 1\\{\\text{e-mailed}_i\\}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["HILLSTROM_FILE", "HILLSTROM_ARMS", "EmailExperiment", "read_hillstrom", "hillstrom_experiment",
           "email_profit"]

HILLSTROM_FILE = "Kevin_Hillstrom_MineThatData_E-MailAnalytics_DataMiningChallenge_2008.03.20.csv"
#: Arms in index order; 0 is control.
HILLSTROM_ARMS = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
_COVARIATES = ("recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel")
_CATEGORICAL = ("history_segment", "zip_code", "channel")


@dataclass(frozen=True, eq=False)
class EmailExperiment:
    """A randomized e-mail experiment: covariates, arm received, spend, known propensities.

    Attributes
    ----------
    X : DataFrame of shape (n, 8)
        Pre-treatment covariates; ``history_segment``, ``zip_code`` and ``channel`` are
        categorical.
    T : ndarray of shape (n,), int
        Arm received, an index into ``arms`` (0 = no e-mail).
    spend : ndarray of shape (n,)
        Dollars spent in the two weeks after the e-mail.
    arms : tuple of str
        Arm names, control first.
    propensity : ndarray of shape (n,)
        Probability of the arm received (1/3 by design).
    """

    X: pd.DataFrame
    T: np.ndarray
    spend: np.ndarray
    arms: tuple
    propensity: np.ndarray

    @property
    def n(self) -> int:
        return len(self.T)

    def __repr__(self) -> str:
        return f"EmailExperiment(n={self.n}, arms={self.arms}, mean_spend={self.spend.mean():.4f})"

    def subset(self, idx) -> "EmailExperiment":
        """The customers at integer positions ``idx``."""
        idx = np.asarray(idx)
        return EmailExperiment(self.X.iloc[idx].reset_index(drop=True), self.T[idx], self.spend[idx],
                               self.arms, self.propensity[idx])


def read_hillstrom(path) -> EmailExperiment:
    """Read the Hillstrom CSV (the file, or the folder that holds it under its original name).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    EmailExperiment

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        Columns or values that do not match the Hillstrom layout (see
        :func:`hillstrom_experiment`).
    """
    path = Path(path)
    if path.is_dir():
        path = path / HILLSTROM_FILE
    if not path.is_file():
        raise FileNotFoundError(f"Hillstrom data not found: {path}")
    return hillstrom_experiment(pd.read_csv(path))


def hillstrom_experiment(frame: pd.DataFrame) -> EmailExperiment:
    """Turn a frame with the Hillstrom columns into an :class:`EmailExperiment`.

    Parameters
    ----------
    frame : DataFrame
        Columns ``recency, history_segment, history, mens, womens, zip_code, newbie,
        channel, segment, spend`` (others, e.g. ``visit``, are ignored).

    Returns
    -------
    EmailExperiment
        Propensities are the design's 1/3 per arm.

    Raises
    ------
    ValueError
        Missing columns, missing values, an unknown ``segment``, negative or non-finite spend.

    Examples
    --------
    >>> df = pd.DataFrame({"recency": [1, 2], "history_segment": ["1) $0 - $100"] * 2,
    ...                    "history": [50.0, 80.0], "mens": [1, 0], "womens": [0, 1],
    ...                    "zip_code": ["Urban", "Rural"], "newbie": [0, 1], "channel": ["Web", "Phone"],
    ...                    "segment": ["No E-Mail", "Womens E-Mail"], "spend": [0.0, 29.99]})
    >>> exp = hillstrom_experiment(df)
    >>> exp.T.tolist(), exp.X.shape
    ([0, 2], (2, 8))
    """
    missing = [c for c in (*_COVARIATES, "segment", "spend") if c not in frame.columns]
    if missing:
        raise ValueError(f"Hillstrom frame lacks columns {missing}")
    used = frame[[*_COVARIATES, "segment", "spend"]]
    if used.isna().to_numpy().any():
        raise ValueError(f"Hillstrom frame has missing values in {used.columns[used.isna().any()].tolist()}")
    codes = {name: k for k, name in enumerate(HILLSTROM_ARMS)}
    unknown = sorted(set(used["segment"]) - set(codes))
    if unknown:
        raise ValueError(f"unknown segment values {unknown}; expected {list(HILLSTROM_ARMS)}")
    spend = used["spend"].to_numpy(dtype=float)
    if not np.all(np.isfinite(spend)) or np.any(spend < 0):
        raise ValueError("spend must be finite and non-negative")
    X = used[list(_COVARIATES)].copy()
    for c in _CATEGORICAL:
        X[c] = X[c].astype("category")
    T = used["segment"].map(codes).to_numpy(dtype=int)
    return EmailExperiment(X.reset_index(drop=True), T, spend, HILLSTROM_ARMS,
                           np.full(len(T), 1.0 / len(HILLSTROM_ARMS)))


def email_profit(spend, emailed, *, margin: float, cost: float) -> np.ndarray:
    """Profit ``margin * spend - cost * emailed``, broadcast elementwise.

    Parameters
    ----------
    spend : array-like of shape (n,) or (n, n_arms)
        Realized spend, or expected spend under every arm.
    emailed : array-like broadcastable to ``spend``
        1 where an e-mail is sent: ``T != 0`` for realized spend, ``[0, 1, 1]`` for arms.
    margin : float
        Gross margin on spend, in (0, 1].
    cost : float
        Cost per e-mail sent, >= 0.

    Returns
    -------
    ndarray of the broadcast shape

    Raises
    ------
    ValueError
        A margin outside (0, 1], a negative or non-finite cost.

    Examples
    --------
    >>> email_profit([[0.0, 10.0, 4.0]], [0, 1, 1], margin=0.5, cost=0.1).tolist()
    [[0.0, 4.9, 1.9]]
    """
    if not np.isfinite(margin) or not 0 < margin <= 1:
        raise ValueError(f"margin must be in (0, 1], got {margin!r}")
    if not np.isfinite(cost) or cost < 0:
        raise ValueError(f"cost must be finite and >= 0, got {cost!r}")
    return margin * np.asarray(spend, dtype=float) - cost * np.asarray(emailed, dtype=float)
