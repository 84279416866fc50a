"""The one place that talks to HiGHS: :class:`HighsSession` (and :func:`run_highs` on top of it)."""

from .highs import ITERATION_UNLIMITED, TERMINATION, HighsResult, HighsRun, HighsSession, LinearProgram, run_highs

__all__ = ["ITERATION_UNLIMITED", "TERMINATION", "HighsResult", "HighsRun", "HighsSession", "LinearProgram",
           "run_highs"]
