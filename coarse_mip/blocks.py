"""Row blocks for the O(n m) array passes: temporaries stay cache-sized instead of n x m copies."""

from __future__ import annotations

__all__ = ["BLOCK_ROWS", "row_blocks"]

#: Default rows per block (16,384 rows x 101 float64 columns is about 13 MB).
BLOCK_ROWS = 16_384


def row_blocks(n: int, size: int = BLOCK_ROWS):
    """Slices ``[0, size), [size, 2 size), ...`` covering ``range(n)``."""
    return (slice(i, min(i + size, n)) for i in range(0, n, size))
