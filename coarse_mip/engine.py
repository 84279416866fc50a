"""What every engine returns before :func:`coarse_mip.solution.certify` checks it."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["EngineResult"]


class EngineResult(NamedTuple):
    """An engine's answer: a menu of original column indices, a proven upper bound, figures."""

    menu: np.ndarray
    bound: float
    stats: dict
