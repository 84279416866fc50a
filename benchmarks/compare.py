"""Two versions of the package side by side in one run: is a change a regression?

Each workload runs in its own process under ``/usr/bin/time -v`` (wall seconds inside the
workload, peak RSS of the process), alternating between the versions ``--repeat`` times, so
both see the same machine load. A version is a git revision (exported with ``git archive``
into a temporary folder) or ``work`` (this working tree); the workload imports
``coarse_mip`` from that folder and uses only the public API (``cm.solve``, the datasets),
so any two versions compare.

Workloads:

* ``orlib``    exact on OR-Library pmed1..40, 60 s limit each: total and max seconds, all proven?
* ``headline`` ``heuristic`` on smooth 1e6 x 101, K = 5 (the matrix is generated once per run
               and saved as .npy, so generation is not timed).
* ``memory``   ``cm.solve(P, 5)`` (exact) on the same 1e6 x 101 matrix: peak RSS of a process
               that only loads P (808 MB) and solves.
* ``rl1304``   exact on TSPLIB rl1304 with p = 10 (the hardest p; floor distances).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/compare.py --base 780af41 --workloads orlib,headline,memory
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SHARED = REPO.parent / "shared" / "benchmarks"
WORKLOADS = ("orlib", "headline", "memory", "rl1304")


def run_workload(name: str, data: Path) -> dict:
    """Run one workload in this process (``coarse_mip`` as found on sys.path)."""
    import numpy as np

    import coarse_mip as cm
    from coarse_mip.datasets import read_orlib_pmed

    if name == "orlib":
        import pandas as pd

        optima = pd.read_csv(SHARED / "orlib-pmed" / "optima.csv").set_index("instance")["optimum"]
        seconds, proven, right = [], 0, 0
        for k in range(1, 41):
            cost, p = read_orlib_pmed(SHARED / "orlib-pmed" / f"pmed{k}.txt")
            t0 = time.perf_counter()
            sol = cm.solve(-cost, p, time_limit=60)
            seconds.append(time.perf_counter() - t0)
            proven += sol.status == "optimal"
            right += round(-sol.objective) == optima[f"pmed{k}"]
        return {"total_s": sum(seconds), "max_s": max(seconds), "proven": int(proven), "at_optimum": int(right)}
    if name == "rl1304":
        from coarse_mip.datasets import floor_euclid, read_tsplib

        D = floor_euclid(read_tsplib(SHARED / "tsplib-pmedian" / "rl1304.tsp"))
        t0 = time.perf_counter()
        sol = cm.solve(-D, 10)
        return {"seconds": time.perf_counter() - t0, "status": sol.status, "objective": -sol.objective,
                "nodes": sol.stats.get("bb_nodes")}
    P = np.load(data)
    t0 = time.perf_counter()
    if name == "headline":
        sol = cm.solve(P, 5, "heuristic")
    else:
        sol = cm.solve(P, 5)
    return {"seconds": time.perf_counter() - t0, "status": sol.status, "gap": sol.gap, "objective": sol.objective}


def export(rev: str, into: Path) -> Path:
    """The package of revision ``rev`` (or this working tree for "work"), as a folder to import from."""
    if rev == "work":
        return REPO
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "coarse_mip"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def measure(tree: Path, workload: str, data: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run(["/usr/bin/time", "-v", sys.executable, __file__, "--run", workload, "--data", str(data)],
                          env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode:
        raise RuntimeError(f"{workload} in {tree} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    result["peak_rss_gb"] = int(rss.group(1)) / 2**20 if rss else None
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="HEAD", help="git revision to compare against (default HEAD)")
    ap.add_argument("--head", default="work", help="the other version (default: this working tree)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--run", choices=WORKLOADS, help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run:
        print(json.dumps(run_workload(args.run, args.data)))
        return
    workloads = args.workloads.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trees = {args.base: export(args.base, tmp / "base"), args.head: export(args.head, tmp / "head")}
        data = tmp / "smooth_1e6_101.npy"
        if {"headline", "memory"} & set(workloads):
            import numpy as np

            sys.path.insert(0, str(REPO))
            from coarse_mip.datasets import synthetic_profits

            np.save(data, synthetic_profits(1_000_000, 101, "smooth", seed=0))
        for workload in workloads:
            for r in range(args.repeat):
                for version in ((args.base, args.head) if r % 2 == 0 else (args.head, args.base)):
                    result = measure(trees[version], workload, data)
                    print(json.dumps({"workload": workload, "version": version, "repeat": r,
                                      "load": os.getloadavg()[0], **result}), flush=True)


if __name__ == "__main__":
    main()
