"""The Dask backend: profit rows as a ``dask.array`` in row chunks (one chunk across the columns).

A pass is one task per chunk on whatever scheduler is active (threads by default, a
``distributed`` cluster when a Client exists): the task cuts its chunk into the layer's blocks,
at the same global row offsets as the numpy backend (so sums combine in the same order), runs
``fn`` on each and combines them; the client combines the chunks' outputs in chunk order. The
pass's function is one key of the graph, so a cluster ships it to each worker once. Dask
retries the tasks of a lost worker (they are pure); a pass that still fails raises. With
progress on (:mod:`coarse_mip._progress`: ``--progress`` or ``COARSE_MIP_PROGRESS=1``, or a
terminal when asked), each pass shows Dask's own progress bar on stderr: ``distributed``'s
when a Client is active, else ``dask.diagnostics.ProgressBar``.

Dask is imported only when a Dask array arrives (the ``distributed`` extra).
"""

from __future__ import annotations

import contextlib
import sys
import uuid
import warnings
from typing import Callable

import numpy as np

from .._progress import progress_enabled
from ._backend import combine

__all__ = ["DASK", "DaskRows", "as_delayed"]


class DaskRows:
    name = "dask"
    in_memory = False

    def handles(self, P) -> bool:
        return type(P).__module__.startswith("dask.") and hasattr(P, "to_delayed")

    def blocks(self, P, rows: int):
        start = 0
        for chunk in P.to_delayed().ravel():
            block = np.ascontiguousarray(chunk.compute(), dtype=np.float64)
            yield from _aligned(start, block, rows)
            start += block.shape[0]

    def map_reduce(self, P, fn: Callable, reducers: tuple, rows: int):
        import dask

        uid = uuid.uuid4().hex
        fn_key = as_delayed(fn)
        task = dask.delayed(_chunk_pass, pure=True)
        starts = np.concatenate([[0], np.cumsum(P.chunks[0])[:-1]]).astype(int)
        chunks = [(int(start), chunk) for start, size, chunk
                  in zip(starts, P.chunks[0], P.to_delayed().ravel(), strict=True) if size > 0]
        with warnings.catch_warnings():
            # The pass's function carries the row-length arrays it reads (weights, levels, group
            # sums): a large graph by design, sent once per pass.
            warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
            parts = _compute([task(fn_key, reducers, start, rows, chunk, dask_key_name=f"rows-pass-{uid}-{i}")
                              for i, (start, chunk) in enumerate(chunks)])
        return tuple(combine(r, [part[k] for part in parts]) for k, r in enumerate(reducers))

    def take(self, P, index: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(P[np.asarray(index, dtype=np.intp)].compute(), dtype=np.float64)

    def map_rows(self, P, fn: Callable, dtype):
        return P.map_blocks(lambda b: fn(np.asarray(b, dtype=np.float64)), drop_axis=1, dtype=dtype)


    def prepare(self, P):
        """``P`` (n, m) as this backend passes over it: known row chunks, one chunk across columns."""
        if any(np.isnan(c) for c in P.chunks[0]):
            P = P.compute_chunk_sizes()
        return P.rechunk({1: -1}) if P.numblocks[1] > 1 else P


DASK = DaskRows()


def _compute(tasks: list) -> tuple:
    """``dask.compute(*tasks)``, under Dask's progress bar (on stderr) when progress is on."""
    import dask

    if not progress_enabled(False):
        return dask.compute(*tasks)
    try:
        from distributed import get_client, progress

        client = get_client()
    except (ImportError, ValueError):          # no distributed, or no Client: the local schedulers
        from dask.diagnostics import ProgressBar

        with ProgressBar(out=sys.stderr):
            return dask.compute(*tasks)
    futures = client.compute(tasks)
    with contextlib.redirect_stdout(sys.stderr):  # its text bar writes to stdout, which carries results
        progress(futures, notebook=False)
    return tuple(client.gather(futures))


def as_delayed(obj):
    """``obj`` as one named key of a Dask graph: shipped to each worker once and never hashed (dask
    would otherwise hash a function with every array it holds, or fail on a fitted model)."""
    import dask

    return dask.delayed(obj, name=f"coarse-mip-{type(obj).__name__}-{uuid.uuid4().hex}")


def _aligned(start: int, block: np.ndarray, rows: int):
    """(global slice, sub-block) of a chunk whose first row is global row ``start``, cut at the
    multiples of ``rows``."""
    n, i = block.shape[0], 0
    while i < n:
        stop = min(n, ((start + i) // rows + 1) * rows - start)
        yield slice(start + i, start + stop), block[i:stop]
        i = stop


def _chunk_pass(fn: Callable, reducers: tuple, start: int, rows: int, chunk) -> tuple:
    parts = [fn(s, b) for s, b in _aligned(start, np.ascontiguousarray(chunk, dtype=np.float64), rows)]
    return tuple(combine(r, [part[k] for part in parts]) for k, r in enumerate(reducers))
