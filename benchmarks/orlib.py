"""OR-Library p-median pmed1..pmed40 against their published optima.

Reads ``../shared/benchmarks/orlib-pmed/`` (last edge wins, then all-pairs shortest paths,
``coarse_mip.datasets.read_orlib_pmed``), solves the p-median as coarse personalization with
profits ``-cost`` and prints one row per instance. Writes ``benchmarks/results/orlib_METHOD.md``
and one JSON line per instance to ``benchmarks/results/orlib_METHOD.jsonl``.

    python benchmarks/orlib.py                      # pmed1-10, exact
    python benchmarks/orlib.py --instances 1-40 --time-limit 60 --method exact
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
from common import RESULTS, SHARED, markdown_table, versions

import coarse_mip as cm
from coarse_mip.datasets import read_orlib_pmed


def parse_range(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv=None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="1-10", help="e.g. 1-10 or 1,5,36")
    ap.add_argument("--method", default="exact")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--data", type=Path, default=SHARED / "orlib-pmed")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    optima = pd.read_csv(args.data / "optima.csv").set_index("instance")
    args.out.mkdir(exist_ok=True)
    rows = []
    with open(args.out / f"orlib_{args.method}.jsonl", "w") as log:
        for k in parse_range(args.instances):
            name = f"pmed{k}"
            cost, p = read_orlib_pmed(args.data / f"{name}.txt")
            t0 = time.perf_counter()
            sol = cm.solve(-cost, p, args.method, time_limit=args.time_limit)
            seconds = time.perf_counter() - t0
            opt = int(optima.loc[name, "optimum"])
            row = {"instance": name, "n": cost.shape[0], "p": p, "optimum": opt,
                   "ours": -sol.objective, "bound": -sol.bound, "status": sol.status,
                   "gap_to_opt_%": 100 * (-sol.objective - opt) / opt, "seconds": round(seconds, 2),
                   "model_rows": sol.stats.get("rows"), "model_nonzeros": sol.stats.get("nonzeros")}
            rows.append(row)
            log.write(json.dumps({**row, "method": args.method, **versions()}) + "\n")
            print(" ".join(f"{key}={val}" for key, val in row.items()), flush=True)
    table = pd.DataFrame(rows)
    md = markdown_table(table)
    (args.out / f"orlib_{args.method}.md").write_text(
        f"# OR-Library pmed, method={args.method}, time limit {args.time_limit:g}s\n\n"
        f"Command: `python benchmarks/orlib.py --instances {args.instances} --method {args.method} "
        f"--time-limit {args.time_limit:g}`\n\n{md}\n")
    print(table.to_string(index=False))
    return table


if __name__ == "__main__":
    main()
