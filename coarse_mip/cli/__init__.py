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
import contextlib
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
    dask = ap.add_mutually_exclusive_group()
    dask.add_argument("--scheduler", metavar="ADDRESS",
                      help="estimate/solve/curve/assign on a Dask cluster (tcp://host:8786): rows stay in Parquet")
    dask.add_argument("--workers", type=int, metavar="N",
                      help="the same on a local Dask cluster of N worker processes (one thread each)")
    sub = ap.add_subparsers(dest="command", required=True)
    workflow.add_commands(sub)
    stage2.add_commands(sub)
    return ap


@contextlib.contextmanager
def _cluster(args):
    """A Dask client for ``--scheduler`` / ``--workers`` (``args.cluster``), closed on the way out."""
    args.cluster = None
    if args.scheduler is None and args.workers is None:
        yield
        return
    if args.command not in ("estimate", "solve", "curve", "assign"):
        raise UserError(f"--scheduler / --workers apply to estimate, solve, curve and assign, not {args.command}")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UserError("--scheduler / --workers need Dask: pip install 'coarse-mip[distributed]'") from None
    if not args.verbose:
        logging.getLogger("distributed").setLevel(logging.WARNING)
    with contextlib.ExitStack() as stack:
        if args.scheduler is not None:
            try:
                client = stack.enter_context(Client(args.scheduler, timeout=30))
            except OSError as exc:
                raise UserError(f"cannot reach the Dask scheduler at {args.scheduler}: {exc}") from None
        else:
            cluster = stack.enter_context(LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                                       dashboard_address=None, silence_logs=logging.ERROR))
            client = stack.enter_context(Client(cluster))
        args.cluster = client
        logging.getLogger("coarse_mip").info("Dask cluster: %s", client)
        yield


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
        with _cluster(args):
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
