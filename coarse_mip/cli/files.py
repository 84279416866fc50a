"""Files in and out of the command line: tables (CSV, Parquet, Stata), profits, constraints.

Nothing is dropped or renamed silently: repeated column names, a file with no rows, a column
named but absent, missing values (unless ``--dropna`` drops them and says how many) are user
errors, reported in one line.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd

from ..constraints import Constraints

__all__ = ["UserError", "check_writable", "read_constraints", "read_profits", "read_table", "write_table"]

#: File types by suffix.
READERS = {".csv": "csv", ".txt": "csv", ".gz": "csv", ".parquet": "parquet", ".dta": "stata"}


class UserError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


def read_table(path) -> pd.DataFrame:
    """A CSV, Parquet or Stata file as a DataFrame, refusing repeated column names and empty files."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"no such file: {path}")
    kind = READERS.get(p.suffix.lower())
    if kind is None:
        raise UserError(f"{path}: unknown file type {p.suffix!r} (use .csv, .parquet or .dta)")
    try:
        if kind == "csv":
            _check_csv_header(p)
            df = pd.read_csv(p)
        elif kind == "parquet":
            df = pd.read_parquet(p)
        else:
            df = pd.read_stata(p)
    except ImportError as exc:
        raise UserError(f"reading {path} needs an optional package: {exc}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    if not df.columns.is_unique:
        raise UserError(f"{path}: repeated column names {df.columns[df.columns.duplicated()].unique().tolist()}")
    if len(df) == 0:
        raise UserError(f"{path} has no rows (only a header)" if len(df.columns) else f"{path} is empty")
    return df


def _check_csv_header(path: Path) -> None:
    """pandas renames repeated CSV headers (``a,a`` becomes ``a, a.1``): refuse them instead."""
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", newline="") as f:
        header = next(csv.reader(f), None)
    if header is None:
        raise UserError(f"{path} is empty")
    seen, repeated = set(), []
    for name in header:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise UserError(f"{path}: repeated column names {repeated}")


def read_profits(path: str, weight_column: str | None = None, id_column: str | None = None,
                 extra_columns: tuple = ()) -> tuple[pd.DataFrame, pd.Series | None, pd.Index, dict]:
    """A file whose columns are treatments: (profits, weights or None, row ids, {extra column: values}).

    Every column not named as weights, ids or an extra must be a treatment (numeric).
    """
    df = read_table(path)
    weights = None
    named = [(weight_column, "weight"), (id_column, "id")] + [(c, "usage") for c in extra_columns]
    for col, what in named:
        if col is not None and col not in df.columns:
            raise UserError(f"{what} column {col!r} not in {path} (columns: {list(df.columns)})")
    ids = df.index
    if id_column is not None:
        ids = pd.Index(df.pop(id_column), name=id_column)
    if weight_column is not None:
        weights = df.pop(weight_column)
    extra = {col: df.pop(col) for col in extra_columns}
    df.columns = [str(c) for c in df.columns]
    return df, weights, ids, extra


def read_profit_rows(path: str, weight_column: str | None = None, id_column: str | None = None):
    """A Parquet file or dataset (folder) of rows, kept out of memory (``--scheduler`` /
    ``--workers``): (Dask DataFrame of the other columns, weights (n,) or None, ids or None)."""
    try:
        import dask.dataframe as dd
    except ImportError:
        raise UserError("--scheduler / --workers need Dask: pip install 'coarse-mip[distributed]'") from None
    p = Path(path)
    if not (p.is_dir() or p.suffix.lower() == ".parquet" and p.is_file()):
        raise UserError(f"{path}: --scheduler / --workers read a Parquet file or folder of Parquet files")
    try:
        df = dd.read_parquet(str(p))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    for col, what in [(weight_column, "weight"), (id_column, "id")]:
        if col is not None and col not in df.columns:
            raise UserError(f"{what} column {col!r} not in {path} (columns: {list(df.columns)})")
    weights = None if weight_column is None else df[weight_column].compute().to_numpy()
    ids = None if id_column is None else df[id_column]
    return df.drop(columns=[c for c in (weight_column, id_column) if c is not None]), weights, ids


def read_constraints(path, profits_path: str, weight_column, id_column):
    """Profits, weights, ids and the Constraints of ``path`` (None: no file), whose ``usage`` may
    name a column of the profits file."""
    extra = ()
    if path:
        p = Path(path)
        if not p.is_file():
            raise UserError(f"no such constraints file: {path}")
        try:
            usage = json.loads(p.read_text()).get("usage")
        except (json.JSONDecodeError, AttributeError) as exc:
            raise UserError(f"cannot read constraints {path}: {exc}") from None
        extra = (usage,) if isinstance(usage, str) else ()
    profits, weights, ids, columns = read_profits(profits_path, weight_column, id_column, extra)
    cons = Constraints.from_json(path, columns=columns) if path else None
    return profits, weights, ids, cons


def check_writable(*paths) -> None:
    """Fail before any work when an output file cannot be written."""
    for path in paths:
        if not path:
            continue
        target = Path(path)
        folder = target.parent if str(target.parent) else Path(".")
        if target.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK) or (
                target.exists() and not os.access(target, os.W_OK)):
            raise UserError(f"cannot write {path}: no such folder or not writable")


def write_table(df, path: str) -> None:
    """A pandas DataFrame to CSV or Parquet; a Dask DataFrame to a Parquet folder, by partition."""
    if hasattr(df, "npartitions"):
        df.to_parquet(path, write_index=False)
    elif str(path).lower().endswith(".parquet"):
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
