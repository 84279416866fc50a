"""coarse_mip: choose K treatments and who gets which, with a certified optimality gap.

>>> import coarse_mip as cm
>>> sol = cm.solve([[5.0, 1.0], [0.0, 4.0], [2.0, 2.5]], K=1)
>>> sol.labels, sol.objective, sol.status
((1,), 7.5, 'optimal')
"""

import logging

from .api import METHODS, profit_curve, solve
from .problem import Problem
from .solution import Solution

__all__ = ["solve", "profit_curve", "Problem", "Solution", "METHODS"]
__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
