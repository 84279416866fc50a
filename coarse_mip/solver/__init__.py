"""The one place that talks to HiGHS: :class:`HighsSession` (and :func:`run_highs` on top of it)."""

from .highs import TERMINATION, HighsResult, HighsRun, HighsSession, LinearProgram, run_highs

__all__ = ["TERMINATION", "HighsResult", "HighsRun", "HighsSession", "LinearProgram", "run_highs"]
