"""Heuristic engines and the exhaustive oracle: plain functions over validated arrays."""

from .enumerate import enumerate_menus
from .greedy import greedy_menu

__all__ = ["enumerate_menus", "greedy_menu"]
