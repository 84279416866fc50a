"""Engines behind ``solve(method=...)``, each a composition of the layers below and described
by an :class:`EngineSpec`; no engine imports another.

``ENGINES`` maps each method name to its spec, in the order the documentation lists them.
"""

from .enumerate import ENUMERATE
from .exact import EXACT, FINISHES, FORMULATIONS
from .heuristic import GREEDY, HEURISTIC, LLOYD
from .spec import EngineResult, EngineSpec, Option, SolveContext

#: method name -> its spec.
ENGINES: dict[str, EngineSpec] = {spec.name: spec for spec in (EXACT, HEURISTIC, LLOYD, GREEDY, ENUMERATE)}

__all__ = ["ENGINES", "EngineResult", "EngineSpec", "Option", "SolveContext", "FINISHES", "FORMULATIONS"]
