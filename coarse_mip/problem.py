"""Validated problem data: the profit matrix, weights and treatment labels.

Everything user-supplied is checked once, at the boundary (:mod:`coarse_mip._validation`).
Engines receive a :class:`Problem` and trust it: float64, finite, C-contiguous, read-only arrays,
or, for rows beyond memory, a Dask array in row chunks checked by passes (:func:`_lazy_rows`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from . import rows
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

        ``profits`` may also be beyond memory: a Dask array (row chunks), a Dask DataFrame or
        the path of a Parquet dataset of profit rows (columns = treatments); ``weights`` may
        then name one of its columns. They are checked by passes and stay where they are.

        Raises
        ------
        ValueError
            Empty or non-2-D profits, non-numeric or repeated columns, NaN/inf, weights of
            the wrong length, negative, non-finite or all zero.
        """
        if isinstance(profits, (str, os.PathLike)) or type(profits).__module__.startswith("dask"):
            P, w, labels = _lazy_rows(profits, weights)
            return cls(P, w, tuple(range(P.shape[1])) if labels is None else labels)
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
        return float(self.weights @ rows.row_max(self.profits))


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous float64 view of ``a`` (a copy only when the layout needs one);
    the caller's own array keeps its flags."""
    view = np.ascontiguousarray(a, dtype=np.float64).view()
    view.flags.writeable = False
    return view


def _lazy_rows(profits, weights):
    """Profit rows that stay out of memory, validated by one pass: (Dask array (n, m), weights (n,),
    labels or None)."""
    try:
        import dask.dataframe as dd
    except ImportError as e:                    # pragma: no cover - the ``distributed`` extra
        raise ValueError("profit rows beyond memory need Dask: pip install 'coarse-mip[distributed]'") from e
    labels = None
    if isinstance(profits, (str, os.PathLike)):
        if "://" not in os.fspath(profits) and not os.path.exists(profits):     # local paths only
            raise ValueError(f"profits: no Parquet dataset at {os.fspath(profits)!r}")
        profits = dd.read_parquet(profits)
    if hasattr(profits, "to_dask_array"):       # a Dask DataFrame
        if isinstance(weights, str):
            if weights not in profits.columns:
                raise ValueError(f"weights: no column {weights!r} among {list(profits.columns)}")
            weights, profits = profits[weights].compute().to_numpy(), profits.drop(columns=weights)
        if len(set(profits.columns)) < len(profits.columns):
            raise ValueError("profits has repeated column labels")
        bad = [c for c, t in profits.dtypes.items() if not (np.issubdtype(t, np.number) and t.kind != "b")]
        if bad:
            raise ValueError(f"profits columns must be numeric; not: {bad}")
        labels = tuple(profits.columns)
        profits = profits.to_dask_array()         # row chunk sizes: found by prepare()
    elif isinstance(weights, str):
        raise ValueError("weights may name a column only when profits is a DataFrame or a Parquet dataset")
    if not hasattr(profits, "chunks") or profits.ndim != 2:
        raise ValueError(f"profits must be 2-D (n, m), got shape {getattr(profits, 'shape', None)}")
    if not (np.issubdtype(profits.dtype, np.number) and profits.dtype.kind != "b"):
        raise ValueError(f"profits must be numeric, got dtype {profits.dtype}")
    P = rows.DASK.prepare(profits)
    n, m = P.shape
    if n == 0 or m == 0:
        raise ValueError(f"profits is empty: shape {P.shape}")
    bad, = rows.map_reduce(P, lambda s, b: (int(np.count_nonzero(~np.isfinite(b))),))
    if bad:
        raise ValueError(f"profits contains {bad} NaN or infinite entries")
    if hasattr(weights, "compute"):
        weights = weights.compute()
    return P, _frozen(check_weights(weights, n)), labels
