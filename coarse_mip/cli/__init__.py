"""The ``coarse-mip`` command.

From an experiment file to a deployed policy: ``estimate`` (Stage I: the profit matrix),
``fit`` (Stage I and II: a saved policy), ``assign`` (new individuals), ``evaluate`` (doubly
robust value on held-out data); and from a profit matrix: ``solve``, ``curve``; ``demo`` runs
the paper's study.

Exit status: 0 on success; 2 on a user error (bad files, bad data, bad options), reported in one
line ``coarse-mip: error: ...``; 1 on an internal failure (with ``--verbose``, its traceback).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from . import stage2, workflow
from .files import UserError

__all__ = ["main", "UserError"]

EXIT_USAGE = 2
EXIT_INTERNAL = 1


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in the one-line form of every other user error."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"coarse-mip: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="coarse-mip", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    noise = ap.add_mutually_exclusive_group()
    noise.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    noise.add_argument("-q", "--quiet", action="store_true", help="no progress bars, warnings only")
    ap.add_argument("--progress", action="store_true", help="progress bars even when stderr is not a terminal")
    sub = ap.add_subparsers(dest="command", required=True)
    workflow.add_commands(sub)
    stage2.add_commands(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:                       # --help (0) or a usage error (2, already printed)
        return int(exc.code or 0)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.quiet:
        os.environ["COARSE_MIP_PROGRESS"] = "0"
    elif args.progress:
        os.environ["COARSE_MIP_PROGRESS"] = "1"
    try:
        return args.func(args)
    except (UserError, ValueError) as exc:
        print(f"coarse-mip: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("coarse-mip: interrupted", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:                                # a bug, not the user's input
        if args.verbose:
            raise
        print(f"coarse-mip: internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)",
              file=sys.stderr)
        return EXIT_INTERNAL
