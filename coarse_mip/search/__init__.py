"""Searches over menus: constructions, local search, the paper's Lloyd alternation, exhaustive
enumeration, the single-peaked dynamic program, and branch and bound on one tree search.

Every function takes validated float64 arrays ``P`` (n, m) and ``w`` (n,) > 0 and returns a
menu (sorted column indices) with figures; bounds come from :mod:`coarse_mip.bounds`.
"""

from .branch import branch_and_bound, lp_branch_and_bound
from .constrained import (
                          constrained_branch_and_bound,
                          constrained_lloyd,
                          constrained_swaps,
                          enumerate_constrained,
                          lagrangian_search,
                          unconstrained_start,
)
from .enumerate import enumerate_menus
from .greedy import best_single, greedy_menu, pad_menu
from .ladder import ladder_menu
from .lloyd import lloyd_menu, plusplus_start
from .menu import search_menu
from .rounding import descend_from_lp
from .swap import local_search, swap_search
from .tree import tree_search
from .vns import vns

__all__ = ["best_single", "branch_and_bound", "descend_from_lp", "constrained_branch_and_bound", "constrained_lloyd",
           "constrained_swaps", "enumerate_constrained", "enumerate_menus", "greedy_menu",
           "lagrangian_search", "ladder_menu", "local_search", "lloyd_menu", "lp_branch_and_bound", "pad_menu",
           "plusplus_start", "search_menu", "swap_search", "tree_search", "unconstrained_start", "vns"]
