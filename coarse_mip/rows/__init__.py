"""The row-pass layer: every O(n m) pass the engines make over the profit rows.

Engines and kernels never walk the rows of a profit matrix themselves; they call the
operations here, which go through the rows in blocks, so a pass holds one block of
temporaries (``BLOCK_BYTES``), never an n x m copy. How the rows are stored is the backend's
business (:func:`backend`): numpy row blocks in memory today; a second backend (Dask row
chunks) implements the same two primitives, ``blocks`` and ``map_reduce``, and every
operation below runs on it unchanged.

Block-level primitives (on one in-memory block): :func:`weighted_excess`, :func:`top_two`.
Passes (over all rows): :func:`best_on`, :func:`assign`, :func:`menu_value`, :func:`excess`,
:func:`column_totals`, :func:`segment_totals`, :func:`row_max`, :func:`map_reduce`.
"""

from ._backend import BLOCK_BYTES, NUMPY, GroupSums, RowBackend, backend, block_rows, row_blocks
from ._ops import (
                   assign,
                   best_on,
                   column_totals,
                   excess,
                   group_sums,
                   map_reduce,
                   menu_value,
                   row_max,
                   segment_totals,
                   top_two,
                   weighted_excess,
)

__all__ = ["BLOCK_BYTES", "NUMPY", "GroupSums", "RowBackend", "backend", "block_rows", "row_blocks",
           "assign", "best_on", "column_totals", "excess", "group_sums", "map_reduce", "menu_value", "row_max",
           "segment_totals", "top_two", "weighted_excess"]
