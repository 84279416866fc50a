"""Profit rows beyond memory: the heuristic on 2 x 10^7 x 31 float32 Parquet rows on a local Dask
cluster (1 and 2 workers), against the in-memory engine on 10^6 rows of the same family.

The rows are ``synthetic_profits(10^6, 31, "smooth", seed=i)`` for i = 0 .. files-1, one Parquet
file each (float32, columns d0 .. d30), written once by ``--write`` (about 2.5 GB). Each run
starts a ``distributed.LocalCluster`` (one thread per worker, ``--memory-limit`` each), reads
the dataset with ``dask.dataframe.read_parquet`` (not persisted: every pass reads the files) and
times ``cm.solve(dataframe, K, "heuristic")`` wall clock, which reads, validates, samples, searches,
polishes and certifies (coarse_mip/engines/out_of_core.py). Peak memory per worker is the
largest resident set seen by polling every worker each 0.5 s; the client's is its own peak RSS.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dask_scale.py --write
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/dask_scale.py --workers 1,2
    .venv/bin/python benchmarks/dask_scale.py --files 2 --write --workers 2     # a quick look

Appends one JSON line per run to ``benchmarks/results/dask_scale.jsonl`` and rewrites
``benchmarks/results/dask_scale.md``.
"""

# ruff: noqa: E402  (OMP_NUM_THREADS must be set before numpy loads)
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RESULTS, markdown_table, versions

import coarse_mip as cm
from coarse_mip.datasets import synthetic_profits

ROWS_PER_FILE = 1_000_000


def write(path: Path, files: int, m: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        target = path / f"part-{i:03d}.parquet"
        if target.exists():
            continue
        P = synthetic_profits(ROWS_PER_FILE, m, "smooth", seed=i).astype(np.float32)
        pd.DataFrame(P, columns=[f"d{t}" for t in range(m)]).to_parquet(target, index=False)
        print(f"wrote {target}", flush=True)


class MemoryPoll:
    """Largest resident set of every worker, polled in a thread."""

    def __init__(self, client, every: float = 0.5):
        self.client, self.every, self.peak = client, every, {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self.stop.is_set():
            try:
                for worker, rss in self.client.run(lambda: psutil.Process().memory_info().rss).items():
                    self.peak[worker] = max(self.peak.get(worker, 0), rss)
            except Exception:            # a poll racing the cluster's shutdown
                pass
            self.stop.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def run_cluster(parts: list[Path], workers: int, K: int, memory_limit: str) -> dict:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=memory_limit,
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster) as client:
        with MemoryPoll(client) as poll:
            t0 = time.perf_counter()
            sol = cm.solve(dd.read_parquet([str(p) for p in parts]), K, "heuristic")
            elapsed = time.perf_counter() - t0
    n = sol.stats.get("rows_in") or int(sol.assignment.shape[0])
    return {"rows": n, "workers": workers, "seconds": round(elapsed, 1), "status": sol.status, "gap": sol.gap,
            "objective": sol.objective, "bound": sol.bound, "menu": list(sol.treatments),
            "route": sol.stats.get("out_of_core"), "polish_swaps": sol.stats.get("polish_swaps"),
            "benders_iterations": sol.stats.get("benders_iterations"),
            **{k: round(sol.stats[k], 1) for k in ("sample_s", "polish_s", "benders_s") if k in sol.stats},
            "peak_worker_gb": round(max(poll.peak.values()) / 2**30, 2) if poll.peak else None,
            "client_peak_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}


def run_memory(m: int, K: int) -> dict:
    P = synthetic_profits(ROWS_PER_FILE, m, "smooth", seed=0).astype(np.float32).astype(np.float64)
    t0 = time.perf_counter()
    sol = cm.solve(P, K, "heuristic")
    return {"rows": P.shape[0], "workers": 0, "seconds": round(time.perf_counter() - t0, 1), "status": sol.status,
            "gap": sol.gap, "objective": sol.objective, "bound": sol.bound, "menu": list(sol.treatments),
            "route": "in memory (numpy)"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--path", type=Path, default=Path("/tmp/coarse_mip_dask/smooth_31"))
    ap.add_argument("--files", type=int, default=20, help="files of 10^6 rows")
    ap.add_argument("--m", type=int, default=31)
    ap.add_argument("--K", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="write the Parquet rows first (skips existing files)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts ('' for none)")
    ap.add_argument("--memory-limit", default="4GB", help="per worker")
    args = ap.parse_args(argv)
    if args.write:
        write(args.path, args.files, args.m)
    parts = sorted(args.path.glob("part-*.parquet"))[: args.files]
    if len(parts) < args.files:
        ap.error(f"{args.path} holds {len(parts)} files, {args.files} asked: run with --write")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    runs = [run_memory(args.m, args.K)]
    print(json.dumps(runs[-1]), flush=True)
    for workers in (int(x) for x in args.workers.split(",") if x):
        runs.append(run_cluster(parts, workers, args.K, args.memory_limit))
        print(json.dumps(runs[-1]), flush=True)
    base = runs[0]["seconds"] / runs[0]["rows"]
    for r in runs:
        r.update(us_per_row=round(1e6 * r["seconds"] / r["rows"], 2),
                 per_row_vs_memory=round(r["seconds"] / r["rows"] / base, 2),
                 commit=commit, date=datetime.date.today().isoformat(), **versions())
    RESULTS.mkdir(exist_ok=True)
    with open(RESULTS / "dask_scale.jsonl", "a") as f:
        for r in runs:
            f.write(json.dumps(r, default=str) + "\n")
    cols = ["rows", "workers", "route", "seconds", "us_per_row", "per_row_vs_memory", "status", "gap",
            "peak_worker_gb", "client_peak_gb", "sample_s", "polish_s", "benders_s", "polish_swaps",
            "benders_iterations"]
    df = pd.DataFrame(runs).reindex(columns=cols)
    (RESULTS / "dask_scale.md").write_text(
        "# Profit rows beyond memory (Dask)\n\n`" + " ".join(["benchmarks/dask_scale.py", *(argv or sys.argv[1:])])
        + f"` (commit {commit})\n\n" + markdown_table(df) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
