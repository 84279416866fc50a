"""Validated problem data: the profit matrix, weights and treatment labels.

Everything user-supplied is checked once, at the boundary (:mod:`coarse_mip._validation`).
Engines receive a :class:`Problem` and trust it: float64, finite, C-contiguous, read-only arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_K, check_matrix, check_weights

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
            Empty or non-2-D profits, non-numeric or repeated columns, NaN/inf, weights of
            the wrong length, negative, non-finite or all zero.
        """
        if isinstance(profits, Problem):
            if weights is None:
                return profits
            profits, labels = profits.profits, profits.labels
        else:
            profits, labels = check_matrix(profits, "profits")
        n, m = profits.shape
        labels = tuple(range(m)) if labels is None else labels
        return cls(_frozen(profits), _frozen(check_weights(weights, n)), labels)

    def full_value(self) -> float:
        """Full personalization value ``sum_i w_i max_t P[i, t]``: an upper bound for every K."""
        return float(self.weights @ self.profits.max(axis=1))


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous float64 view of ``a`` (a copy only when the layout needs one);
    the caller's own array keeps its flags."""
    view = np.ascontiguousarray(a, dtype=np.float64).view()
    view.flags.writeable = False
    return view
