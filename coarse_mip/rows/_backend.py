"""Backends of the row-pass layer and the one rule that sizes a block."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import reduce as _fold
from typing import Callable, Iterator, Protocol

import numpy as np
import scipy.sparse as sp

__all__ = ["BLOCK_BYTES", "NUMPY", "GroupSums", "RowBackend", "backend", "block_rows", "register", "row_blocks",
           "scratch"]

#: Bytes of temporaries one block may hold (16,384 rows x 128 float64 columns).
BLOCK_BYTES = 16 * 2**20


def block_rows(bytes_per_row: int, budget: int = BLOCK_BYTES) -> int:
    """Rows per block when each row needs ``bytes_per_row`` bytes of temporaries."""
    return max(1, int(budget) // max(1, int(bytes_per_row)))


def row_blocks(n: int, size: int) -> Iterator[slice]:
    """Slices ``[0, size), [size, 2 size), ...`` covering ``range(n)``."""
    return (slice(i, min(i + size, n)) for i in range(0, n, size))


_local = threading.local()


def scratch(rows: int, cols: int) -> np.ndarray:
    """A (rows, cols) float64 buffer owned by the calling thread, reused from call to call (a
    pass may run its blocks on several threads at once)."""
    buf = getattr(_local, "buf", None)
    if buf is None or buf.size < rows * cols:
        buf = _local.buf = np.empty(rows * cols)
    return buf[: rows * cols].reshape(rows, cols)


class RowBackend(Protocol):
    """What a storage of profit rows provides; every operation of the layer is built on these.

    ``fn`` of :meth:`map_reduce` must be pure (its outputs are its return value): a backend may
    run blocks in other threads or processes.
    """

    name: str
    in_memory: bool                   # rows can be indexed at random at no cost

    def handles(self, P) -> bool:
        """True when ``P`` is stored the way this backend reads."""

    def blocks(self, P, rows: int) -> Iterator[tuple[slice, np.ndarray]]:
        """(row slice, in-memory block) pairs covering the rows in order."""

    def map_reduce(self, P, fn: Callable, reducers: tuple, rows: int):
        """Apply ``fn(slice, block)`` to every block and combine its outputs (one reducer each)."""

    def take(self, P, index: np.ndarray) -> np.ndarray:
        """Rows ``index`` (sorted) as an in-memory float64 array (len(index), m)."""

    def map_rows(self, P, fn: Callable, dtype):
        """``fn(block) -> (b,)`` on every block, kept in the backend's own storage (lazy there)."""


def combine(reducer: str, parts: list):
    """Combine the outputs of one reducer over blocks, in block order."""
    if reducer == "sum":
        return _fold(lambda a, b: a + b, parts)
    if reducer == "concat":
        return np.concatenate(parts)
    raise ValueError(f"unknown reducer {reducer!r}")


class NumpyRows:
    """Rows held in memory as one C-contiguous numpy array (n, m)."""

    name = "numpy"
    in_memory = True

    def handles(self, P) -> bool:
        return isinstance(P, np.ndarray)

    def blocks(self, P: np.ndarray, rows: int):
        for s in row_blocks(P.shape[0], rows):
            yield s, P[s]

    def map_reduce(self, P: np.ndarray, fn: Callable, reducers: tuple, rows: int):
        parts = [fn(s, block) for s, block in self.blocks(P, rows)]
        return tuple(combine(r, [part[k] for part in parts]) for k, r in enumerate(reducers))

    def take(self, P: np.ndarray, index: np.ndarray) -> np.ndarray:
        return P[index]

    def map_rows(self, P: np.ndarray, fn: Callable, dtype):
        return np.concatenate([fn(b) for _, b in self.blocks(P, block_rows(8 * P.shape[1]))]).astype(dtype)


NUMPY = NumpyRows()
_BACKENDS: list = [NUMPY]


def register(candidate) -> None:
    """Add a backend (checked after the ones already there)."""
    _BACKENDS.append(candidate)


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
        """The matrix of the rows in ``s``, which lies inside one block (backends whose chunks
        cut a block in two ask for the parts)."""
        k = s.start // self.rows
        M, lo = self.blocks[k], s.start - k * self.rows
        return M if lo == 0 and s.stop - s.start == M.shape[1] else M[:, lo:s.stop - k * self.rows]
