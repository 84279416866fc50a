"""Kernels over validated arrays that more than one bound or search builds on.

* :class:`SwapState` -- fast-interchange bookkeeping of a menu (best and second-best slot per
  row, the swap-gain tables); :func:`swap_state` picks it or its compiled twin;
* :func:`separate`, :func:`row_groups` -- the Benders cuts of every row at a master point;
* :func:`excess_sums`, :func:`counts_above`, :func:`row_max`, :func:`node_tops` -- the passes
  of a Lagrangian node bound, compiled, and the sorted lists that shorten them;
* :class:`Incumbent` -- the best menu seen, each distinct menu evaluated once;
* :func:`transport`, :class:`MenuValues` -- the best assignment of a menu under side
  constraints, and the best menu seen under them;
* :func:`peaks`, :func:`ladder_tables` -- single-peaked rows and the pair sums of their exact
  dynamic program (formulations/ladder.md).
"""

from .incumbent import Incumbent
from .ladder import LadderTables, ladder_tables, peaks
from .node_bound import NodeTops, counts_above, excess_sums, node_tops, row_max
from .separation import TopColumns, row_groups, separate
from .swap_compiled import CompiledSwapState
from .swap_state import SwapState, swap_state
from .transport import MenuValues, Transport, transport

__all__ = ["CompiledSwapState", "Incumbent", "LadderTables", "MenuValues", "NodeTops", "SwapState", "TopColumns",
           "Transport", "counts_above", "excess_sums", "ladder_tables", "node_tops", "peaks", "row_groups", "row_max",
           "separate", "swap_state", "transport"]
