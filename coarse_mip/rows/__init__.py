"""The row-pass layer: every O(n m) pass the engines make over the profit rows.

Engines and kernels never walk the rows of a profit matrix themselves; they call the
operations here, which go through the rows in blocks, so a pass holds one block of
temporaries (``BLOCK_BYTES``), never an n x m copy. How the rows are stored is the backend's
business (:func:`backend`): numpy arrays in memory, or Dask arrays in row chunks (``_dask``:
one task per chunk, on a laptop's threads or a cluster). Both implement the same primitives
(``blocks``, ``map_reduce``, ``take``, ``map_rows``) and every operation below runs on both
unchanged; functions given to :func:`map_reduce` are pure (outputs by return value).

Block-level primitives (on one in-memory block): :func:`weighted_excess`, :func:`top_two`.
Random access: :func:`take` (rows by index, in memory), :func:`in_memory`.
Passes (over all rows): :func:`best_on`, :func:`assign`, :func:`menu_value`, :func:`excess`,
:func:`column_totals`, :func:`segment_totals`, :func:`row_max`, :func:`map_reduce`.
"""

from ._backend import BLOCK_BYTES, NUMPY, GroupSums, RowBackend, backend, block_rows, register, row_blocks, scratch
from ._dask import DASK, as_delayed
from ._ops import (
                   assign,
                   best_on,
                   column_totals,
                   excess,
                   group_sums,
                   in_memory,
                   map_reduce,
                   menu_value,
                   row_max,
                   segment_totals,
                   take,
                   top_two,
                   weighted_excess,
)

register(DASK)

__all__ = ["BLOCK_BYTES", "DASK", "NUMPY", "GroupSums", "RowBackend", "as_delayed", "backend", "block_rows",
           "row_blocks", "scratch", "assign", "best_on", "column_totals", "excess", "group_sums", "in_memory",
           "map_reduce", "menu_value", "row_max", "segment_totals", "take", "top_two", "weighted_excess"]
