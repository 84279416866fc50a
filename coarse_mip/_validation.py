"""Checks of user input, shared by every public entry point (API, evaluation, Stage I, CLI).

Each function validates one kind of argument and raises ``ValueError`` with a message that
names the argument and the value received; what it returns (float64 arrays, a Generator,
an int) is trusted by the private code below it.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

__all__ = ["as_float_array", "check_finite", "check_matrix", "check_weights", "check_K", "check_seed",
           "check_time_limit", "check_mip_gap", "check_int", "check_vector", "check_indices",
           "check_columns", "as_frame", "is_categorical", "check_frame_complete"]


def as_float_array(x, name: str) -> np.ndarray:
    """``x`` (array-like, Series or DataFrame) as a float64 array; never copies a float64 array."""
    if isinstance(x, (pd.Series, pd.DataFrame)):
        x = x.to_numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None


def check_finite(a: np.ndarray, name: str) -> np.ndarray:
    """Raise if ``a`` holds NaN or inf, naming how many and where the first one is."""
    if np.isfinite(a).all():
        return a
    bad = ~np.isfinite(a)
    where = tuple(int(v) for v in np.argwhere(bad)[0])
    kind = "NaN" if np.isnan(a[where]) else "inf"
    where_text = where[0] if len(where) == 1 else where
    raise ValueError(f"{name} contains NaN or inf: {int(bad.sum())} value(s), the first ({kind}) at index "
                     f"{where_text}")


def check_matrix(x, name: str = "profits") -> tuple[np.ndarray, tuple | None]:
    """A non-empty, finite, numeric 2-D float64 array, and the column labels of a DataFrame.

    DataFrame columns must be unique and numeric (booleans are not numbers here). Returns
    ``(array (n, m), labels or None)``; the array shares memory with ``x`` when it can.
    """
    labels = None
    if isinstance(x, pd.DataFrame):
        if not x.columns.is_unique:
            dup = x.columns[x.columns.duplicated()].unique().tolist()
            raise ValueError(f"{name}: column names must be unique; repeated: {dup!r}")
        bad = [c for c, dtype in x.dtypes.items()
               if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)]
        if bad:
            raise ValueError(f"{name}: column(s) {bad!r} are not numeric")
        labels = tuple(x.columns)
        x = x.to_numpy(dtype=np.float64)
    a = as_float_array(x, name)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a non-empty 2-D array (n individuals x m treatments), got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty: it must be a non-empty 2-D array, got shape {a.shape}")
    return check_finite(a, name), labels


def check_weights(weights, n: int, name: str = "weights") -> np.ndarray:
    """Non-negative finite weights of shape (n,), not all zero; ones when ``weights`` is None."""
    if weights is None:
        return np.ones(n)
    w = as_float_array(weights, name)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match the {n} rows, got {w.shape}")
    check_finite(w, name)
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise ValueError(f"{name} must be non-negative; {name}[{i}] = {w[i]!r}")
    if not (w > 0).any():
        raise ValueError(f"{name} are all zero: nothing to optimize")
    return w


def check_int(value, name: str, low: int = 1) -> int:
    """``value`` as an int >= ``low`` (integral floats such as 3.0 accepted, booleans not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            not isinstance(value, numbers.Integral) and not float(value).is_integer()):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_K(K) -> int:
    """Return ``K`` as a positive int; raise ValueError naming the value otherwise."""
    if isinstance(K, bool) or not isinstance(K, numbers.Real) or (
            not isinstance(K, numbers.Integral) and not float(K).is_integer()):
        raise ValueError(f"K must be a positive integer, got {K!r}")
    if K < 1:
        raise ValueError(f"K must be >= 1, got {K}")
    return int(K)


def check_seed(seed) -> np.random.Generator:
    """``seed`` (None, a non-negative int or a Generator) as the one Generator of a run."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be None, a non-negative integer or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def check_time_limit(time_limit) -> float | None:
    """None or a positive finite number of seconds."""
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real) or not (
            np.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    return float(time_limit)


def check_mip_gap(mip_gap) -> float:
    """A relative gap in [0, 1)."""
    if isinstance(mip_gap, bool) or not isinstance(mip_gap, numbers.Real) or not 0.0 <= mip_gap < 1.0:
        raise ValueError(f"mip_gap must be in [0, 1), got {mip_gap!r}")
    return float(mip_gap)


def check_vector(values, name: str, dtype=float) -> np.ndarray:
    """A finite 1-D array of ``dtype``."""
    v = np.asarray(values, dtype=dtype)
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {v.shape}")
    if np.issubdtype(v.dtype, np.floating):
        check_finite(v, name)
    return v


def check_indices(values, n: int, upper: int, name: str) -> np.ndarray:
    """Integer indices of shape (n,), each in ``0..upper-1`` (arms received, an assignment)."""
    a = np.asarray(values)
    if a.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {a.shape}")
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must hold integer indices, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= upper):
        raise ValueError(f"{name} must lie in 0..{upper - 1}, got values in {a.min()}..{a.max()}")
    return a


def check_columns(columns, m: int, name: str) -> np.ndarray:
    """Distinct column indices in ``0..m-1``, sorted ascending."""
    cols = np.asarray(columns)
    if cols.ndim != 1 or cols.size == 0 or not np.issubdtype(cols.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 1-D sequence of column indices, got {cols!r}")
    if cols.min() < 0 or cols.max() >= m:
        raise ValueError(f"{name} must lie in 0..{m - 1}, got {cols.tolist()}")
    if np.unique(cols).size != cols.size:
        raise ValueError(f"{name} has duplicates: {cols.tolist()}")
    return np.sort(cols)


def as_frame(X, name: str = "X") -> pd.DataFrame:
    """Covariates as a DataFrame (arrays get integer column names)."""
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {arr.shape}")
    return pd.DataFrame(arr)


def check_frame_complete(frame: pd.DataFrame, name: str = "X") -> pd.DataFrame:
    """Raise if any cell is missing, naming the columns."""
    missing = frame.isna().any()
    if missing.any():
        raise ValueError(f"{name} contains missing values in columns {frame.columns[missing].tolist()}")
    return frame


def is_categorical(column: pd.Series) -> bool:
    """Columns one-hot encoded by the models: non-numeric dtypes and booleans."""
    return not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
