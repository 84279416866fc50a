"""Backends of the row-pass layer and the one rule that sizes a block."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce as _fold
from typing import Callable, Iterator, Protocol

import numpy as np
import scipy.sparse as sp

__all__ = ["BLOCK_BYTES", "NUMPY", "GroupSums", "RowBackend", "backend", "block_rows", "row_blocks"]

#: Bytes of temporaries one block may hold (16,384 rows x 128 float64 columns).
BLOCK_BYTES = 16 * 2**20


def block_rows(bytes_per_row: int, budget: int = BLOCK_BYTES) -> int:
    """Rows per block when each row needs ``bytes_per_row`` bytes of temporaries."""
    return max(1, int(budget) // max(1, int(bytes_per_row)))


def row_blocks(n: int, size: int) -> Iterator[slice]:
    """Slices ``[0, size), [size, 2 size), ...`` covering ``range(n)``."""
    return (slice(i, min(i + size, n)) for i in range(0, n, size))


class RowBackend(Protocol):
    """What a storage of profit rows provides; every operation of the layer is built on these."""

    name: str

    def handles(self, P) -> bool:
        """True when ``P`` is stored the way this backend reads."""

    def blocks(self, P, rows: int) -> Iterator[tuple[slice, np.ndarray]]:
        """(row slice, in-memory block) pairs covering the rows in order."""

    def map_reduce(self, P, fn: Callable, reducers: tuple, rows: int):
        """Apply ``fn(slice, block)`` to every block and combine its outputs (one reducer each)."""


def _combine(reducer: str, parts: list):
    if reducer == "sum":
        return _fold(lambda a, b: a + b, parts)
    if reducer == "concat":
        return np.concatenate(parts)
    raise ValueError(f"unknown reducer {reducer!r}")


class NumpyRows:
    """Rows held in memory as one C-contiguous numpy array (n, m)."""

    name = "numpy"

    def handles(self, P) -> bool:
        return isinstance(P, np.ndarray)

    def blocks(self, P: np.ndarray, rows: int):
        for s in row_blocks(P.shape[0], rows):
            yield s, P[s]

    def map_reduce(self, P: np.ndarray, fn: Callable, reducers: tuple, rows: int):
        parts = [fn(s, block) for s, block in self.blocks(P, rows)]
        return tuple(_combine(r, [part[k] for part in parts]) for k, r in enumerate(reducers))


NUMPY = NumpyRows()
_BACKENDS: list = [NUMPY]


def backend(P) -> RowBackend:
    """The backend that stores ``P``."""
    for candidate in _BACKENDS:
        if candidate.handles(P):
            return candidate
    raise TypeError(f"no row backend for profit rows of type {type(P).__name__}")


@dataclass(frozen=True)
class GroupSums:
    """Weighted sums of rows into G groups, one sparse (G, rows) matrix per block of ``rows`` rows.

    Built once per grouping (the cut loop separates many times with it); passes that use it
    walk the rows in the same blocks.
    """

    G: int
    rows: int
    blocks: tuple

    @classmethod
    def build(cls, w: np.ndarray, groups: np.ndarray, G: int, rows: int) -> "GroupSums":
        mats = tuple(sp.csr_matrix((w[s], (groups[s], np.arange(s.stop - s.start))), shape=(G, s.stop - s.start))
                     for s in row_blocks(groups.size, rows))
        return cls(int(G), int(rows), mats)

    def block(self, s: slice):
        return self.blocks[s.start // self.rows]
