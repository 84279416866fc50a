"""Upper bounds that certify menus: the Benders LP of the radius model, its master MIP, and the
Lagrangian bound of a branch-and-bound node (formulations/benders.md)."""

from .benders import BendersLP, BendersMaster, LPBounder, benders_lp, fix_by_reduced_cost
from .lagrangian import lagrangian_node_bound
from .master_mip import master_mip

__all__ = ["BendersLP", "BendersMaster", "LPBounder", "benders_lp", "fix_by_reduced_cost", "lagrangian_node_bound",
           "master_mip"]
