"""Progress bars on long loops: tqdm on stderr, only where a person watches.

On when asked (``progress=True``) and stderr is a terminal, or when forced by the environment
variable ``COARSE_MIP_PROGRESS=1`` (the CLI's ``--progress``); ``COARSE_MIP_PROGRESS=0``
(``--quiet``) turns every bar off.
"""

from __future__ import annotations

import os
import sys

__all__ = ["counter", "progress", "progress_enabled"]


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


class _Silent:
    live = False

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def counter(*, desc: str, enabled: bool = True, total: int | None = None, unit: str = " nodes"):
    """A bar updated by hand (nodes of a search, steps of a fit): ``update``,
    ``set_postfix_str``, ``close``, usable as a context manager; a silent stand-in when
    :func:`progress_enabled` is false."""
    if not progress_enabled(enabled):
        return _Silent()
    from tqdm.auto import tqdm

    bar = tqdm(desc=desc, total=total, file=sys.stderr, leave=False, dynamic_ncols=True, unit=unit)
    bar.live = True
    return bar
