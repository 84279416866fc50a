"""Pyomo builders, one module per exact formulation of ``formulations/*.md``.

Each module only builds (``build_model(...) -> pyo.ConcreteModel``) and says which equations
each component implements; solving is :mod:`coarse_mip.solver`'s job.

* :mod:`.strong` -- the classical strong p-median model (S1)-(S5);
* :mod:`.radius` -- Elloumi's radius model in profit form, aggregated and chained (R0)-(R8);
* :mod:`.master` -- the Benders master LP (B6).
"""

from . import master, radius, strong

__all__ = ["master", "radius", "strong"]
