"""Validated problem data: the profit matrix, weights and treatment labels.

Everything user-supplied is checked here, once, at the boundary. Engines receive a
:class:`Problem` and trust it: float64, finite, C-contiguous, read-only arrays.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Problem", "check_K"]


@dataclass(frozen=True, eq=False)
class Problem:
    """A coarse-personalization instance.

    Parameters
    ----------
    profits : ndarray of shape (n, m)
        Expected profit of individual ``i`` under candidate treatment ``t``; higher is better.
    weights : ndarray of shape (n,)
        Non-negative weight of each individual (not all zero).
    labels : tuple of length m
        Treatment labels (DataFrame column names, else ``0..m-1``).

    Use :meth:`from_data` to build one from user input; the constructor does not validate.
    """

    profits: np.ndarray
    weights: np.ndarray
    labels: tuple

    @property
    def n(self) -> int:
        return self.profits.shape[0]

    @property
    def m(self) -> int:
        return self.profits.shape[1]

    @classmethod
    def from_data(cls, profits, weights=None) -> "Problem":
        """Validate ``profits`` (array-like or DataFrame, shape (n, m)) and ``weights`` (n,).

        Raises
        ------
        ValueError
            Empty or non-2-D profits, non-numeric columns, NaN/inf, weights of the wrong
            length, negative, non-finite or all zero.
        """
        if isinstance(profits, Problem):
            if weights is None:
                return profits
            profits, labels = profits.profits, profits.labels
        elif isinstance(profits, pd.DataFrame):
            labels = tuple(profits.columns)
            if not profits.columns.is_unique:
                dup = profits.columns[profits.columns.duplicated()].unique().tolist()
                raise ValueError(f"profits: treatment labels (column names) must be unique; repeated: {dup!r}")
            bad = [c for c, dtype in profits.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)
                   or pd.api.types.is_bool_dtype(dtype)]
            if bad:
                raise ValueError(f"profits: column(s) {bad!r} are not numeric")
            profits = profits.to_numpy(dtype=np.float64)
        else:
            labels = None
        P = _as_float_array(profits, "profits")
        if P.ndim != 2:
            raise ValueError(f"profits must be 2-D (n individuals x m treatments), got shape {P.shape}")
        n, m = P.shape
        if n == 0 or m == 0:
            raise ValueError(f"profits is empty: shape {P.shape}")
        _check_finite(P, "profits")
        if labels is None:
            labels = tuple(range(m))
        if len(set(labels)) != m:
            raise ValueError("profits: treatment labels (column names) must be unique")

        if weights is None:
            w = np.ones(n)
        else:
            w = _as_float_array(weights, "weights")
            if w.ndim != 1 or w.shape[0] != n:
                raise ValueError(f"weights must have shape ({n},) to match profits {P.shape}, got {w.shape}")
            _check_finite(w, "weights")
            if (w < 0).any():
                i = int(np.flatnonzero(w < 0)[0])
                raise ValueError(f"weights must be non-negative; weights[{i}] = {w[i]!r}")
            if not (w > 0).any():
                raise ValueError("weights are all zero: nothing to optimize")
        P = np.ascontiguousarray(P, dtype=np.float64)
        w = np.ascontiguousarray(w, dtype=np.float64)
        P.flags.writeable = False
        w.flags.writeable = False
        return cls(P, w, labels)

    def full_value(self) -> float:
        """Full personalization value ``sum_i w_i max_t P[i, t]``: an upper bound for every K."""
        return float(self.weights @ self.profits.max(axis=1))


def check_K(K) -> int:
    """Return ``K`` as a positive int; raise ValueError naming the value otherwise."""
    if isinstance(K, bool) or not isinstance(K, numbers.Integral):
        if isinstance(K, numbers.Real) and float(K).is_integer() and not isinstance(K, bool):
            K = int(K)
        else:
            raise ValueError(f"K must be a positive integer, got {K!r}")
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    return int(K)


def _as_float_array(x, name: str) -> np.ndarray:
    if isinstance(x, (pd.Series, pd.DataFrame)):
        x = x.to_numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    return arr


def _check_finite(a: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(a)
    if bad.any():
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(a[where]) else "inf"
        raise ValueError(f"{name} contains {int(bad.sum())} non-finite value(s) ({kind} at index {where})")
