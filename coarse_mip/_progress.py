"""Progress bars on long loops: tqdm on stderr, only where a person watches.

On when asked (``progress=True``) and stderr is a terminal, or when forced by the environment
variable ``COARSE_MIP_PROGRESS=1`` (the CLI's ``--progress``); ``COARSE_MIP_PROGRESS=0``
(``--quiet``) turns every bar off.
"""

from __future__ import annotations

import os
import sys

__all__ = ["progress", "progress_enabled"]


def progress_enabled(requested: bool = True) -> bool:
    forced = os.environ.get("COARSE_MIP_PROGRESS")
    if forced is not None:
        return forced.strip() not in ("", "0", "false", "no")
    return bool(requested) and sys.stderr.isatty()


def progress(iterable, *, desc: str, total: int | None = None, enabled: bool = True):
    """``iterable`` wrapped in a tqdm bar when :func:`progress_enabled`, else as it is."""
    if not progress_enabled(enabled):
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, file=sys.stderr, leave=False, dynamic_ncols=True)
