"""Stage I: from a randomized experiment to a profit matrix on a candidate grid.

Simulate an experiment (:func:`simulate_promotions`), estimate every customer's outcome
under every arm with EconML (:class:`ArmOutcomeEstimator`), and turn the estimated demand
into profits on a finer grid of discounts (:func:`profit_matrix`). Real data: the Hillstrom
e-mail experiment (:func:`read_hillstrom`, :func:`email_profit`). Stage I knows nothing of
the Stage II engines.
"""

from .estimate import ArmOutcomeEstimator
from .hillstrom import EmailExperiment, email_profit, hillstrom_experiment, read_hillstrom
from .profit import INTERPOLATIONS, profit_matrix
from .simulate import DEFAULT_ARMS, Experiment, simulate_promotions

__all__ = ["simulate_promotions", "Experiment", "DEFAULT_ARMS", "ArmOutcomeEstimator", "profit_matrix",
           "INTERPOLATIONS", "EmailExperiment", "read_hillstrom", "hillstrom_experiment", "email_profit"]
