"""Heuristic engines against certified optima, measured, with ``benchmarks/RESULTS.md``.

Suites (every instance runs each of ``--methods``; exact runs first with ``--time-limit``):

* ``orlib``     OR-Library pmed1..40 (``--instances``), reference = the published optimum.
* ``uniform``   U(0, 1) profits, n = 1000, m = 100, each of ``--K``.
* ``cate``      synthetic CATE-like profits (``coarse_mip.datasets.synthetic_profits``),
                ``--families`` x ``--n`` x ``--m`` x ``--K``; each matrix is generated once,
                timed with one numpy pass (``P.argmax(axis=1)``) and freed before the next.
                Reference = exact's objective when exact proves it optimal.
* ``headline``  smooth n = 1,000,000, m = 101, K = 5, ``heuristic`` only: seconds, certified
                gap, the argmax pass on the same matrix in the same run, and their ratio.
                Every run of it is kept in the report (run it again to re-measure).

One JSON line per (suite, instance, method) is appended to
``benchmarks/results/heuristic_vs_exact.jsonl``; the report keeps the latest line of each key,
so a grid can be run in pieces (``--resume`` skips keys already logged) and the report
rebuilt without rerunning (``--report``). Every run ends by rewriting the report.

The full default run is long: on 2 shared cores (load 3-6) it took 53 min for the n = 1e6 part
and 31 min for everything else, run as two processes in parallel; the n = 1e6 matrices dominate
(exact up to 147 s, lloyd up to 197 s per instance). ``--n 1e4,1e5`` runs in about half an hour.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/heuristic_vs_exact.py            # everything
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/heuristic_vs_exact.py --suite orlib --instances 1-10
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/heuristic_vs_exact.py --suite cate \\
        --families smooth --n 1e6 --m 101 --K 5 --time-limit 60
    .venv/bin/python benchmarks/heuristic_vs_exact.py --report
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from common import RESULTS, SHARED, markdown_table, versions
from orlib import parse_range

import coarse_mip as cm
from coarse_mip.datasets import read_orlib_pmed, synthetic_profits

LOG = RESULTS / "heuristic_vs_exact.jsonl"
REPORT = RESULTS.parent / "RESULTS.md"
SUITES = ("orlib", "uniform", "cate", "headline")
METHODS = ("exact", "heuristic", "lloyd")          # exact first: it is the others' reference
HEADLINE = dict(family="smooth", n=1_000_000, m=101, K=5)
TARGETS = {"orlib_mean_gap_pct": 0.1, "orlib_max_gap_pct": 1.0, "orlib_max_s": 1.0,
           "headline_s": 10.0, "headline_gap_pct": 0.1}


# --------------------------------------------------------------------------- running


def _ints(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",")]


def argmax_seconds(P: np.ndarray, repeats: int = 3) -> float:
    """Fastest of ``repeats`` full numpy passes ``P.argmax(axis=1)``: the cost of reading P once."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        P.argmax(axis=1)
        times.append(time.perf_counter() - t0)
    return min(times)


def run_method(P, K, method, args) -> dict:
    """Solve once and return the row's measured fields; an engine crash becomes status "error"."""
    kw = {"time_limit": args.time_limit} if method == "exact" else {}
    t0 = time.perf_counter()
    try:
        sol = cm.solve(P, K, method, seed=args.seed, **kw)
    except Exception as exc:  # noqa: BLE001 - a crash is a result to report, not a reason to stop
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}",
                "seconds": round(time.perf_counter() - t0, 3)}
    stats = sol.stats
    return {"objective": sol.objective, "bound": sol.bound, "certified_gap": sol.gap,
            "status": sol.status, "seconds": round(time.perf_counter() - t0, 3),
            "time_limit": kw.get("time_limit"),
            **{k: round(float(stats[k]), 3) for k in ("search_s", "bound_s") if k in stats},
            **{k: stats[k] for k in ("formulation", "finish") if k in stats}}


def run_instance(suite, instance, P, K, args, done, **extra):
    """Yield one row per method on one (matrix, K); ``extra`` goes into every row."""
    for method in args.methods:
        if (suite, instance, method) in done:
            continue
        row = run_method(P, K, method, args)
        yield {"suite": suite, "instance": instance, "method": method, "K": K, **extra, **row}


def suite_orlib(args, done):
    optima = pd.read_csv(SHARED / "orlib-pmed" / "optima.csv").set_index("instance")
    for k in parse_range(args.instances):
        name = f"pmed{k}"
        cost, p = read_orlib_pmed(SHARED / "orlib-pmed" / f"{name}.txt")
        yield from run_instance("orlib", name, -cost, p, args, done, n=cost.shape[0], m=cost.shape[1],
                                reference=-float(optima.loc[name, "optimum"]))


def suite_uniform(args, done):
    P = synthetic_profits(1000, 100, "uniform", seed=args.seed)
    for K in _ints(args.K):
        yield from run_instance("uniform", f"uniform n=1000 m=100 K={K}", P, K, args, done,
                                family="uniform", n=1000, m=100)


def _cate_matrix(suite, family, n, m, Ks, args, done):
    """Generate one matrix, run every K on it, free it. Skips generation when all is logged."""
    names = {K: f"{family} n={n} m={m} K={K}" for K in Ks}
    if all((suite, names[K], meth) in done for K in Ks for meth in args.methods):
        return
    t0 = time.perf_counter()
    P = synthetic_profits(n, m, family, seed=args.seed)
    generate_s = time.perf_counter() - t0
    scan_s = argmax_seconds(P)
    print(f"# {family} n={n} m={m}: generated in {generate_s:.1f} s, argmax pass {scan_s:.4f} s", flush=True)
    for K in Ks:
        for row in run_instance(suite, names[K], P, K, args, done, family=family, n=n, m=m,
                                argmax_s=round(scan_s, 4)):
            row["ratio_to_argmax"] = round(row["seconds"] / scan_s, 1)
            yield row
    del P
    gc.collect()


def suite_cate(args, done):
    for family in args.families.split(","):
        for n in _ints(args.n):
            for m in _ints(args.m):
                yield from _cate_matrix("cate", family, n, m, _ints(args.K), args, done)


def suite_headline(args, done):
    h = HEADLINE
    run_args = argparse.Namespace(**{**vars(args), "methods": ["heuristic"]})
    yield from _cate_matrix("headline", h["family"], h["n"], h["m"], [h["K"]], run_args, set())


def git_commit() -> str:
    """Short HEAD commit, ``+dirty`` when coarse_mip/ has uncommitted changes (engines move fast)."""
    def git(*cmd):
        return subprocess.run(["git", *cmd], cwd=RESULTS.parent.parent, capture_output=True,
                              text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "?"
    return head + ("+dirty" if git("status", "--porcelain", "coarse_mip") else "")


def run(args) -> None:
    done = set()
    if args.resume and LOG.exists():
        done = {(r["suite"], r["instance"], r["method"]) for r in read_log() if r["status"] != "error"}
    stamp = {**versions(), "commit": git_commit()}
    RESULTS.mkdir(exist_ok=True)
    suites = {"orlib": suite_orlib, "uniform": suite_uniform, "cate": suite_cate,
              "headline": suite_headline}
    with open(LOG, "a") as log:
        for name in args.suite:
            for row in suites[name](args, done):
                row.update(stamp, load_avg_1min=round(os.getloadavg()[0], 2),
                           logged_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
                log.write(json.dumps(row, default=float) + "\n")
                log.flush()
                print(" ".join(f"{k}={row[k]}" for k in ("suite", "instance", "method", "status",
                                                          "certified_gap", "seconds") if k in row),
                      flush=True)


# --------------------------------------------------------------------------- report


def read_log() -> list[dict]:
    with open(LOG) as f:
        return [json.loads(line) for line in f if line.strip()]


def latest(rows: list[dict]) -> pd.DataFrame:
    """The last logged row of each (suite, instance, method), with the reference gap added.

    Reference: the published optimum (orlib) or exact's objective when exact proved it optimal.
    """
    df = pd.DataFrame(rows).drop_duplicates(["suite", "instance", "method"], keep="last")
    if "reference" not in df:
        df["reference"] = np.nan
    proven = df[(df.method == "exact") & (df.status == "optimal")].set_index(["suite", "instance"]).objective
    key = pd.MultiIndex.from_frame(df[["suite", "instance"]])
    df["reference"] = df["reference"].fillna(pd.Series(proven.reindex(key).to_numpy(), index=df.index))
    df["gap_to_ref_pct"] = 100 * (df.reference - df.objective) / df.reference.abs().clip(lower=1e-9)
    found = df[df.method == "exact"].set_index(["suite", "instance"]).objective
    exact_obj = pd.Series(found.reindex(key).to_numpy(), index=df.index)
    df["vs_exact_pct"] = 100 * (exact_obj - df.objective) / exact_obj.abs().clip(lower=1e-9)
    df["cert_gap_pct"] = 100 * df.certified_gap
    return df.reset_index(drop=True)


def _pct(x) -> str:
    """Percent with 3 decimals; tiny nonzero values in scientific notation (not rounded to 0)."""
    if pd.isna(x):
        return "–"
    return f"{x:.1e}" if 0 < abs(x) < 5e-4 else f"{x:.3f}"


def _secs(x) -> str:
    return "–" if pd.isna(x) else f"{x:.2f}"


def summary(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per method (and ``by``): gaps to the reference and certified, optimum counts, seconds."""
    def agg(g):
        ref = g.gap_to_ref_pct.dropna()
        return pd.Series({
            "instances": len(g),
            "with reference": len(ref),
            "mean gap to ref %": _pct(ref.mean()) if len(ref) else "–",
            "max gap to ref %": _pct(ref.max()) if len(ref) else "–",
            "at ref optimum": int((ref <= 1e-7).sum()),
            "better than exact's answer": int((g.vs_exact_pct < -1e-7).sum()),
            "proven optimal": int((g.status == "optimal").sum()),
            "mean certified gap %": _pct(g.cert_gap_pct.mean()),
            "max certified gap %": _pct(g.cert_gap_pct.max()),
            "errors": int((g.status == "error").sum()),
            "mean s": _secs(g.seconds.mean()),
            "max s": _secs(g.seconds.max()),
            "commit": ", ".join(sorted(g.commit.dropna().unique())),
        })
    return df.groupby(by + ["method"], sort=False).apply(agg).reset_index()


def wide(df: pd.DataFrame, index: list[str], versus_exact: bool = False, methods=METHODS) -> pd.DataFrame:
    """One row per instance, a column group per method: gap to reference, certified gap, s
    (and, with ``versus_exact``, the gap to exact's answer whether proven or not)."""
    out = df.drop_duplicates("instance")[["instance"] + index].reset_index(drop=True)
    keys = out.pop("instance")
    for method in methods:
        g = df[df.method == method].set_index("instance").reindex(keys)
        if g.status.isna().all():
            continue
        tag = method[0].upper()
        out[f"{tag} gap %"] = g.gap_to_ref_pct.map(_pct).to_numpy()
        out[f"{tag} cert %"] = g.cert_gap_pct.map(_pct).to_numpy()
        if versus_exact and method != "exact":
            out[f"{tag} vs E %"] = g.vs_exact_pct.map(_pct).to_numpy()
        out[f"{tag} s"] = g.seconds.map(_secs).to_numpy()
        if method == "exact":
            out["E status"] = g.status.fillna("–").to_numpy()
    return out


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "?")
    mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    v = versions()
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kb / 2**20:.0f} GB RAM, {platform.system()} "
            f"{platform.release()}; Python {v['python']}, coarse_mip {v['coarse_mip']}, "
            f"Pyomo {v['pyomo']}, highspy {v['highspy']}")


def headline_section(rows: list[dict]) -> list[str]:
    runs = pd.DataFrame([r for r in rows if r["suite"] == "headline"])
    if runs.empty:
        return ["## Must-show: smooth n = 1,000,000, m = 101, K = 5, `heuristic`", "Not run yet."]
    table = pd.DataFrame({
        "run (UTC)": runs.logged_at, "commit": runs.commit, "load (1 min)": runs.load_avg_1min,
        "heuristic s": runs.seconds.map(_secs), "certified gap %": (100 * runs.certified_gap).map(_pct),
        "status": runs.status, "argmax pass s": runs.argmax_s.map(lambda x: f"{x:.4f}"),
        "ratio heuristic / argmax": runs.ratio_to_argmax,
        "search s": runs.get("search_s", pd.Series(np.nan, index=runs.index)).map(_secs),
        "LP bound s": runs.get("bound_s", pd.Series(np.nan, index=runs.index)).map(_secs)})
    ok = lambda c: "met" if c else "**missed**"  # noqa: E731
    last = runs.iloc[-1]
    verdict = (f"Latest run: {last.seconds:.1f} s (target < {TARGETS['headline_s']:g} s: "
               f"{ok(last.seconds < TARGETS['headline_s'])}), certified gap "
               f"{100 * last.certified_gap:.2g} % (target <= {TARGETS['headline_gap_pct']} %: "
               f"{ok(100 * last.certified_gap <= TARGETS['headline_gap_pct'])}), "
               f"{last.ratio_to_argmax:g} x one argmax pass over the matrix.")
    return ["## Must-show: smooth n = 1,000,000, m = 101, K = 5, `heuristic`",
            "`--suite headline`: the matrix (0.8 GB, float64) is generated once; the argmax pass "
            "(`P.argmax(axis=1)`, fastest of 3) and `cm.solve(P, 5, \"heuristic\")` are timed in the "
            "same process. One row per run.", markdown_table(table), verdict]


def orlib_section(df: pd.DataFrame) -> list[str]:
    g = df[df.suite == "orlib"].copy()
    if g.empty:
        return []
    g["order"] = g.instance.str[4:].astype(int)
    g = g.sort_values(["order", "method"])
    g["optimum"] = (-g.reference).round().astype(int)
    h = g[g.method == "heuristic"]
    lines = ["## OR-Library pmed (reference: published optimum)",
             "Costs are profits negated; gaps are relative to the optimum's cost. `gap %` = "
             "distance to the published optimum, `cert %` = the engine's own certified gap "
             "(its bound), `s` = wall seconds of `cm.solve` (search + LP bound). "
             "H = heuristic, L = lloyd, E = exact (time-limited).",
             markdown_table(summary(g, []))]
    if not h.empty:
        gap, sec = h.gap_to_ref_pct, h.seconds
        lines.append(
            f"Heuristic against the targets over {len(h)} instances: mean gap {gap.mean():.3f} % "
            f"(target <= {TARGETS['orlib_mean_gap_pct']} %), max {gap.max():.3f} % "
            f"(target <= {TARGETS['orlib_max_gap_pct']} %), at the optimum on "
            f"{int((gap <= 1e-7).sum())}, max {sec.max():.2f} s (target <= {TARGETS['orlib_max_s']:g} s; "
            f"{int((sec > TARGETS['orlib_max_s']).sum())} instances above it; max search alone "
            f"{h.get('search_s', pd.Series([np.nan])).max():.2f} s).")
    g["pmed"] = g.instance
    lines.append(markdown_table(wide(g, ["pmed", "n", "K", "optimum"])))
    return lines


def history(rows: list[dict], suite: str) -> list[str]:
    """Every logged run of ``suite`` by method and commit, superseded ones included."""
    df = pd.DataFrame([r for r in rows if r["suite"] == suite and r["status"] != "error"])
    if df.empty or len(df.groupby(["method", "commit"])) <= df.method.nunique():
        return []
    gap = 100 * (df.reference - df.objective) / df.reference.abs()
    table = (df.assign(gap=gap).groupby(["method", "commit"], sort=False)
             .agg(rows=("instance", "size"), first_logged=("logged_at", "min"),
                  mean_gap_pct=("gap", "mean"), max_gap_pct=("gap", "max"), max_s=("seconds", "max"))
             .reset_index())
    return [f"All logged `{suite}` runs by method and commit (the tables above show the latest row "
            "per instance; earlier runs of older engine code stay in the log):",
            markdown_table(table)]


def synthetic_section(df: pd.DataFrame, suite: str, title: str) -> list[str]:
    g = df[df.suite == suite].copy()
    if g.empty:
        return []
    g = g.sort_values(["family", "n", "m", "K"], kind="stable")
    index = ["family", "n", "m", "K"] + (["argmax_s"] if "argmax_s" in g and g.argmax_s.notna().any() else [])
    notes = ("`gap %` = distance to exact's objective where exact proved optimality (– where it did "
             "not finish or did not run), `vs E %` = distance to exact's answer whether proven or "
             "not (negative: better than exact's time-limited incumbent), `cert %` = the engine's "
             "own certified gap, `s` = wall "
             "seconds; `argmax_s` = one `P.argmax(axis=1)` pass over the same matrix. Exact had "
             f"a time limit of {g.time_limit.dropna().max():g} s." if g.time_limit.notna().any() else "")
    return [f"## {title}", notes, markdown_table(summary(g, ["family", "n"] if suite == "cate" else [])),
            highlights(g), markdown_table(wide(g, index, versus_exact=True))]


def highlights(g: pd.DataFrame) -> str:
    """Worst heuristic gaps, and where exact did not prove optimality, in words."""
    h, e = g[g.method == "heuristic"], g[g.method == "exact"]
    if h.empty:
        return ""
    worst = h.loc[h.cert_gap_pct.idxmax()]
    ref = h.gap_to_ref_pct.dropna()
    text = (f"Heuristic: worst certified gap {_pct(worst.cert_gap_pct)} % ({worst.instance}); "
            f"gap to exact's proven optimum at most {_pct(ref.max())} % over {len(ref)} instances; "
            f"certified optimal on {int((h.status == 'optimal').sum())} of {len(h)}; "
            f"seconds up to {h.seconds.max():.1f} ({h.loc[h.seconds.idxmax()].instance}).")
    if not e.empty:
        open_ = e[e.status != "optimal"]
        text += (f" Exact proved {len(e) - len(open_)} of {len(e)} within the limit; not proven: "
                 + ("none" if open_.empty else "; ".join(
                     f"{r.instance} ({r.status}, certified gap {_pct(r.cert_gap_pct)} %, {r.seconds:.0f} s)"
                     for r in open_.itertuples())) + ".")
    return text


def write_report() -> None:
    """Render ``benchmarks/RESULTS.md`` from the log (latest row per key)."""
    rows = read_log()
    df = latest(rows)
    commits = ", ".join(sorted(df.commit.dropna().unique())) if "commit" in df else "?"
    stamps = sorted(r["logged_at"] for r in rows if "logged_at" in r)
    errors = df[df.status == "error"]
    loads = pd.Series([r["load_avg_1min"] for r in rows if "load_avg_1min" in r])
    parts = [
        "# Heuristic vs exact: measured results",
        f"Measured {stamps[0][:16]} to {stamps[-1][:16]} UTC (rendered "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC), commit(s) {commits}. The engines were "
        "being changed while these ran: every row records the commit its process started on "
        "(`+dirty`: uncommitted edits under `coarse_mip/` at that moment), and the summary tables "
        "give it per method.  \n"
        f"Machine: {machine()}.  \n"
        "**Concurrent load:** other CPU-bound jobs (another benchmark run, engine probes, test "
        "runs) shared this 2-core machine throughout: the 1-minute load average logged with the rows "
        f"was {loads.min():.1f} to {loads.max():.1f} (median {loads.median():.1f}), so every wall "
        "time here is inflated, often about 2x. `OMP_NUM_THREADS=1`; HiGHS runs with its default "
        "threads.",
        "Reproduce every table (rows append to `benchmarks/results/heuristic_vs_exact.jsonl`, "
        "this file is rebuilt from it, the latest row per (suite, instance, method) wins):\n\n"
        "    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/heuristic_vs_exact.py "
        "--suite orlib,uniform,cate,headline --time-limit 60\n"
        "    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/heuristic_vs_exact.py --suite headline   "
        "# the must-show line again\n"
        "    .venv/bin/python benchmarks/heuristic_vs_exact.py --report\n\n"
        "(the default `--suite` is all four; the CATE grid can be cut with `--families --n --m --K`, "
        "and `--resume` skips what the log already has).",
        *headline_section(rows),
        *orlib_section(df),
        *history(rows, "orlib"),
        *synthetic_section(df, "cate", "CATE-like profits (smooth and noisy)"),
        *synthetic_section(df, "uniform", "Uniform random profits, n = 1000, m = 100"),
    ]
    if not errors.empty:
        parts += ["## Engine errors", markdown_table(errors[["suite", "instance", "method", "error"]])]
    REPORT.write_text("\n\n".join(p for p in parts if p) + "\n")
    print(f"wrote {REPORT}")


# --------------------------------------------------------------------------- CLI


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default=",".join(SUITES), help=f"comma list of {SUITES}")
    ap.add_argument("--report", action="store_true", help="only rebuild benchmarks/RESULTS.md from the log")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--instances", default="1-40", help="OR-Library pmed numbers, e.g. 1-40 or 1,5,36")
    ap.add_argument("--families", default="smooth,noisy")
    ap.add_argument("--n", default="1e4,1e5,1e6")
    ap.add_argument("--m", default="21,51,101")
    ap.add_argument("--K", default="3,5,10", help="K values of the cate and uniform suites")
    ap.add_argument("--time-limit", type=float, default=60.0, help="exact's seconds per instance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true", help="skip (suite, instance, method) already logged")
    args = ap.parse_args(argv)
    if not args.report:
        args.suite = args.suite.split(",")
        args.methods = [m for m in METHODS if m in args.methods.split(",")]
        if unknown := set(args.suite) - set(SUITES):
            ap.error(f"unknown suite(s) {sorted(unknown)}; choose from {SUITES}")
        run(args)
    write_report()


if __name__ == "__main__":
    sys.exit(main())
