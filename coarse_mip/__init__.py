"""coarse_mip: choose K treatments and who gets which, with a certified optimality gap.

>>> import coarse_mip as cm
>>> sol = cm.solve([[5.0, 1.0], [0.0, 4.0], [2.0, 2.5]], K=1)
>>> sol.labels, sol.objective, sol.status
((1,), 7.5, 'optimal')
"""

import importlib
import logging

from ._version import __version__
from .api import METHODS, profit_curve, solve
from .constraints import Constraints
from .problem import Problem
from .solution import Solution

__all__ = ["solve", "profit_curve", "Constraints", "CoarsePolicy", "Problem", "Solution", "METHODS", "evaluate",
           "stage1", "study", "__version__"]

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Imported on first use (``cm.evaluate``, ``cm.stage1``, ``cm.study``, ``cm.CoarsePolicy``): they
# pull in scikit-learn, and Stage I fits import EconML; ``import coarse_mip`` stays free of both.
_LAZY = ("evaluate", "stage1", "study", "policy")


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    if name == "CoarsePolicy":
        return importlib.import_module(".policy", __name__).CoarsePolicy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"CoarsePolicy"})
