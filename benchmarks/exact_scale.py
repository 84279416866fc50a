"""Exact at scale: our exact engine against pbp-pmedian and PySAL spopt's PMedian, side by side.

Every instance is one cost matrix ``C`` (n clients x m candidate sites, minimise, p medians)
handed unchanged to every solver: ours gets the profits ``-C`` (coarse_mip maximises),
``pbp_pmedian.solve`` gets ``C.T`` (its rows are facilities) and
``spopt.locate.PMedian.from_cost_matrix`` gets ``C`` with unit weights, solved by PuLP's CBC.
All objectives and bounds below are in cost terms (lower is better; a bound is a proven
*lower* bound).

Instance sets
-------------
orlib      OR-Library ``pmedN`` (last edge wins, then Floyd; ``read_orlib_pmed``), published optima.
tsplib     ``rl1304`` etc. with floor-Euclidean distances (``read_tsplib`` + ``floor_euclid``)
           and the p values and optima of ``tsplib-pmedian/reference_values.csv``.
synthetic  ``synthetic_profits(n, m, family, seed)`` turned into costs per row:
           ``C[i, t] = max_u P[i, u] - P[i, t]``. For any menu S,
           ``sum_i min_{t in S} C[i, t] = sum_i max_u P[i, u] - sum_i max_{t in S} P[i, t]``:
           subtracting a per-row constant changes no row's argmax, so assignments and the
           optimal menu are unchanged and the total moves by the constant ``sum_i max_u P[i, u]``.
           Costs are >= 0, so opening more sites never hurts and the competitors' ``|S| = p``
           has the same optimum as our ``|S| <= K``. (A global ``max(P) - P`` would be exact
           too; per row keeps every row's costs starting at 0.) Optimum = the best objective
           that some solver proves.

Measurement
-----------
Each (instance, solver) runs in its own forked process (its own process group), timed wall
clock from model build to answer; a run that has not answered after ``2 x limit + grace``
seconds is killed (pbp-pmedian gives each master re-solve at least 5 s whatever is left of
its limit, so it can overrun). Verification recomputes the cost of the returned medians
from ``C``, compares it with what the tool reported and with the optimum, and checks every
proven bound against the optimum. Ratios ``ours / competitor`` are given only where both
proved optimality and both hit the optimum.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/exact_scale.py           # the default run
    .venv/bin/python benchmarks/exact_scale.py --orlib 1-40 --tsplib none --synthetic none
    .venv/bin/python benchmarks/exact_scale.py --orlib none --tsplib none \\
        --synthetic smooth:20000x51:5:0,noisy:20000x51:5:0 --solvers ours,pbp

Writes ``benchmarks/results/exact_scale.md`` and one JSON line per (instance, solver) to
``benchmarks/results/exact_scale.jsonl``. Needs the ``bench`` extra for the competitors
(``pip install -e ".[bench]"``); a missing one is skipped with a message.
"""

# ruff: noqa: E402  (OMP_NUM_THREADS must be set before numpy loads)
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime
import importlib
import importlib.metadata
import json
import multiprocessing as mp
import platform
import shlex
import signal
import subprocess
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd
from common import RESULTS, SHARED, markdown_table, versions
from orlib import parse_range

import coarse_mip as cm
from coarse_mip.datasets import floor_euclid, read_orlib_pmed, read_tsplib, synthetic_profits

DEFAULT_SYNTHETIC = "smooth:300x21:5:0,noisy:300x21:5:0"
REL_TOL = 1e-9  # relative tolerance of "equal objective" checks
OVERRUN = 1.1  # a run longer than OVERRUN x its time limit + 1 s is flagged as late


@dataclass(frozen=True)
class Instance:
    """A p-median instance in cost terms: ``cost`` (n clients, m sites), ``p`` medians."""

    name: str
    family: str
    cost: np.ndarray
    p: int
    optimum: float | None  # published / reference optimum, None when unknown


# --------------------------------------------------------------------------- instances


def orlib_instances(ids: list[int]) -> Iterator[Instance]:
    folder = SHARED / "orlib-pmed"
    optima = pd.read_csv(folder / "optima.csv").set_index("instance")["optimum"]
    for k in ids:
        cost, p = read_orlib_pmed(folder / f"pmed{k}.txt")
        yield Instance(f"pmed{k}", "orlib", cost, p, float(optima[f"pmed{k}"]))


def tsplib_instances(names: list[str], ps: list[int] | None) -> Iterator[Instance]:
    folder = SHARED / "tsplib-pmedian"
    ref = pd.read_csv(folder / "reference_values.csv")
    for name in names:
        cost = floor_euclid(read_tsplib(folder / f"{name}.tsp"))
        known = ref[ref["instance"] == name].set_index("p")["value"]
        for p in ps or list(known.index):
            opt = float(known[p]) if p in known.index else None
            yield Instance(f"{name} p={p}", "tsplib", cost, int(p), opt)


def synthetic_instances(specs: list[str]) -> Iterator[Instance]:
    """Specs ``family:NxM:K:seed``; costs ``C = rowmax(P) - P`` (module docstring)."""
    for spec in specs:
        family, size, K, seed = spec.split(":")
        n, m = (int(float(x)) for x in size.lower().split("x"))
        P = synthetic_profits(n, m, family, seed=int(seed))
        cost = P.max(axis=1, keepdims=True) - P
        yield Instance(f"{family} {n}x{m} K={K} s{seed}", "synthetic", cost, int(K), None)


# --------------------------------------------------------------------------- solvers
# Each adapter returns {"menu", "objective", "bound", "claims_optimal", "tool_status", "note"}
# in cost terms; "menu" is None when the tool returned no solution.


def run_ours(inst: Instance, limit: float, formulation: str) -> dict:
    sol = cm.solve(-inst.cost, inst.p, "exact", time_limit=limit, formulation=formulation)
    return {"menu": list(sol.treatments), "objective": -sol.objective, "bound": -sol.bound,
            "claims_optimal": sol.status == "optimal", "tool_status": sol.status,
            "note": f"{sol.stats.get('formulation')}, finish {sol.stats.get('finish', '—')}, "
                    f"gap {sol.gap:.2e}"}


PBP_STATUS = {0: "0 (proven optimal)", 1: "1 (limit reached)", 4: "4 (other)"}


def run_pbp(inst: Instance, limit: float, formulation: str) -> dict:
    import pbp_pmedian

    value, S, secs, status, engine = pbp_pmedian.solve(inst.cost.T, inst.p, time_limit=limit)
    return {"menu": None if S is None else list(S), "objective": value,
            "bound": value if status == 0 else None, "claims_optimal": status == 0,
            "tool_status": PBP_STATUS.get(status, str(status)),
            "note": f"engine {engine}, own clock {secs:.2f}s"}


def run_spopt(inst: Instance, limit: float, formulation: str) -> dict:
    import pulp
    from spopt.locate import PMedian

    with warnings.catch_warnings():  # PuLP 3 warns once per LpVariable spopt creates
        warnings.simplefilter("ignore")
        model = PMedian.from_cost_matrix(inst.cost, np.ones(inst.cost.shape[0]), inst.p)
        try:
            model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=limit), results=False)
            raised = ""
        except RuntimeError as exc:  # spopt's check_status: anything but "Optimal"
            raised = f"; raised RuntimeError: {str(exc).split('.')[0]}"
    prob = model.problem
    has_solution = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    y = np.array([v.value() or 0.0 for v in model.fac_vars])
    note = "PuLP + CBC, no bound exposed"
    if not has_solution:  # the variables still hold CBC's last (relaxation) values
        note += f"; objective() reads {prob.objective.value()}, {np.sum(y > 1e-6)} y > 0"
    return {"menu": np.flatnonzero(y > 0.5).tolist() if has_solution else None,
            "objective": prob.objective.value() if has_solution else None, "bound": None,
            "claims_optimal": prob.status == pulp.LpStatusOptimal,
            "tool_status": f"{pulp.LpStatus[prob.status]} ({pulp.LpSolution[prob.sol_status]})"
                           + raised,
            "note": note}


SOLVERS: dict[str, tuple[Callable[..., dict], str | None]] = {
    "ours": (run_ours, None),
    "pbp": (run_pbp, "pbp_pmedian"),
    "spopt": (run_spopt, "spopt"),
}


def missing_reason(solver: str) -> str | None:
    """Why ``solver`` cannot run here (its package does not import), else None."""
    module = SOLVERS[solver][1]
    if module is None:
        return None
    try:
        importlib.import_module(module)
        if solver == "spopt":
            importlib.import_module("pulp")
    except ImportError as exc:
        return f"{module} not importable ({exc}); install the extra: pip install -e '.[bench]'"
    return None


# --------------------------------------------------------------------------- running


def _child(conn, solver: str, inst: Instance, limit: float, formulation: str) -> None:
    os.setpgid(0, 0)  # own process group, so a kill also reaches CBC
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # solver banners (pbp-pmedian's HiGHS) off; errors still on stderr
    t0 = time.perf_counter()
    try:
        out = SOLVERS[solver][0](inst, limit, formulation)
    except Exception as exc:  # recorded, never fatal to the benchmark
        out = {"menu": None, "objective": None, "bound": None, "claims_optimal": False,
               "tool_status": f"raised {type(exc).__name__}: {exc}",
               "note": traceback.format_exc(limit=-3)}
    out["seconds"] = time.perf_counter() - t0
    conn.send(out)
    conn.close()


def run_isolated(solver: str, inst: Instance, limit: float, formulation: str,
                 grace: float) -> dict:
    """Run one solver on one instance in a forked child; kill it at ``2 limit + grace`` s."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, solver, inst, limit, formulation))
    t0 = time.perf_counter()
    proc.start()
    send.close()
    deadline = 2 * limit + grace
    try:
        if recv.poll(deadline):
            out = recv.recv()
        else:
            _kill_group(proc.pid)
            out = {"tool_status": f"killed after {deadline:.0f} s without an answer"}
    except EOFError:
        proc.join()
        out = {"tool_status": f"crashed (exit code {proc.exitcode})"}
    proc.join()
    recv.close()
    out.setdefault("seconds", time.perf_counter() - t0)
    for key, default in (("menu", None), ("objective", None), ("bound", None),
                         ("claims_optimal", False), ("note", "")):
        out.setdefault(key, default)
    return out


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------- verification


def recompute(inst: Instance, menu) -> float | None:
    """Cost of ``menu``: every client on its cheapest chosen site (None for no menu)."""
    if menu is None:
        return None
    return float(inst.cost[:, list(menu)].min(axis=1).sum())


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= REL_TOL * max(1.0, abs(a), abs(b))


def reference_optimum(inst: Instance, answers: dict[str, dict]) -> tuple[float | None, str]:
    """The known optimum, else the best recomputed cost of an answer that claims optimality."""
    if inst.optimum is not None:
        return inst.optimum, "published"
    proven = [a["recomputed"] for a in answers.values()
              if a["claims_optimal"] and a["recomputed"] is not None]
    return (min(proven), "best proven here") if proven else (None, "unknown")


def verdict(inst: Instance, ans: dict, opt: float | None, best_found: float | None) -> str:
    """Our reading of an answer: agrees with the optimum, worse, wrong claim, bad bound, late."""
    late = ans["seconds"] > OVERRUN * ans["limit"] + 1.0
    overrun = [f"overran its {ans['limit']:g} s limit"] if late else []
    if ans["menu"] is None:
        return "; ".join(["no solution returned", *overrun])
    issues = []
    if len(ans["menu"]) > inst.p:
        issues.append(f"{len(ans['menu'])} medians > p")
    if ans["objective"] is None or not _close(ans["objective"], ans["recomputed"]):
        issues.append(f"reported {ans['objective']} != recomputed {ans['recomputed']:.10g}")
    if opt is not None:
        excess = (ans["recomputed"] - opt) / max(abs(opt), 1e-9)
        if _close(ans["recomputed"], opt):
            issues.append("= optimum")
        elif excess > 0:
            claim = "WRONG: claims optimal but " if ans["claims_optimal"] else "feasible, "
            issues.append(f"{claim}{100 * excess:.3g}% above optimum")
        else:
            issues.append(f"BELOW the optimum by {-100 * excess:.3g}% (reference wrong?)")
    if ans["bound"] is not None and best_found is not None and \
            ans["bound"] > best_found and not _close(ans["bound"], best_found):
        issues.append(f"INVALID bound {ans['bound']:.10g} > a feasible cost {best_found:.10g}")
    return "; ".join(issues + overrun)


def proven_at_optimum(ans: dict, opt: float | None) -> bool:
    return bool(ans and ans["claims_optimal"] and opt is not None
                and ans.get("recomputed") is not None and _close(ans["recomputed"], opt))


# --------------------------------------------------------------------------- report


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.4f}"


def result_rows(inst: Instance, answers: dict[str, dict]) -> list[dict]:
    opt, source = reference_optimum(inst, answers)
    found = [a["recomputed"] for a in answers.values() if a.get("recomputed") is not None]
    best_found = min(found) if found else None
    rows = []
    for solver, ans in answers.items():
        check = ans.get("skipped") or verdict(inst, ans, opt, best_found)
        rows.append({"instance": inst.name, "family": inst.family, "n": inst.cost.shape[0],
                     "m": inst.cost.shape[1], "p": inst.p, "optimum": opt,
                     "optimum_source": source, "solver": solver, "cost": ans.get("recomputed"),
                     "reported": ans.get("objective"), "bound": ans.get("bound"),
                     "tool_status": ans.get("tool_status"), "verified": check,
                     "proven_at_optimum": proven_at_optimum(ans, opt),
                     "seconds": ans.get("seconds"), "note": ans.get("note", ""),
                     "menu": ans.get("menu")})
    return rows


def ratio_table(results: pd.DataFrame, competitors: list[str]) -> pd.DataFrame:
    """Per instance: our seconds, each competitor's, and ours / theirs when both proved it."""
    out = []
    for name, grp in results.groupby("instance", sort=False):
        by = grp.set_index("solver")
        row = {"instance": name, "ours s": _sec(by, "ours")}
        for c in competitors:
            row[f"{c} s"] = _sec(by, c)
            both = all(s in by.index and by.loc[s, "proven_at_optimum"] for s in ("ours", c))
            row[f"ours/{c}"] = (f"{by.loc['ours', 'seconds'] / by.loc[c, 'seconds']:.3g}"
                                if both else "—")
        out.append(row)
    return pd.DataFrame(out)


def _sec(by: pd.DataFrame, solver: str) -> str:
    if solver not in by.index or by.loc[solver, "seconds"] is None or \
            not np.isfinite(by.loc[solver, "seconds"]):
        return "—"
    flag = "" if by.loc[solver, "proven_at_optimum"] else "*"
    return f"{by.loc[solver, 'seconds']:.2f}{flag}"


def geomean_ratios(results: pd.DataFrame, competitors: list[str]) -> dict[str, tuple[float, int]]:
    out = {}
    for c in competitors:
        ratios = []
        for _, grp in results.groupby("instance", sort=False):
            by = grp.set_index("solver")
            if all(s in by.index and by.loc[s, "proven_at_optimum"] for s in ("ours", c)):
                ratios.append(by.loc["ours", "seconds"] / by.loc[c, "seconds"])
        if ratios:
            out[c] = (float(np.exp(np.mean(np.log(ratios)))), len(ratios))
    return out


def stamp() -> dict:
    info = {**versions(), "highspy": importlib.metadata.version("highspy"),
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}
    for pkg in ("pbp_pmedian", "spopt", "pulp"):
        try:
            info[pkg] = importlib.import_module(pkg).__version__
        except (ImportError, AttributeError):
            info[pkg] = "not installed"
    info.update(_git())
    return info


def _git() -> dict:
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "coarse_mip"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"git": "unknown"}
    return {"git": head, "coarse_mip_uncommitted_files": len(dirty.splitlines())}


def write_markdown(path: Path, results: pd.DataFrame, competitors: list[str], info: dict,
                   command: str, limits: dict[str, float], spopt_max_n: int) -> None:
    shown = results.assign(optimum=results["optimum"].map(_fmt), cost=results["cost"].map(_fmt),
                           bound=results["bound"].map(_fmt),
                           seconds=results["seconds"].map(
                               lambda s: f"{s:.2f}" if np.isfinite(s) else "—"))
    main = markdown_table(shown[["instance", "n", "m", "p", "optimum", "solver", "cost", "bound",
                                 "tool_status", "verified", "seconds", "note"]])
    ratios = markdown_table(ratio_table(results, competitors))
    means = "; ".join(f"ours/{c}: geometric mean {g:.3g} over {k} instances"
                      for c, (g, k) in geomean_ratios(results, competitors).items())
    path.write_text(
        "# Exact at scale: coarse_mip vs pbp-pmedian vs spopt PMedian\n\n"
        f"Date: {info['date']}. Command: `{command}`\n\n"
        f"Time limits (s): {', '.join(f'{k} {v:g}' for k, v in limits.items())}; a run is "
        f"killed at 2 x limit + grace; spopt runs only up to n = {spopt_max_n}. "
        "Machine and versions: "
        + ", ".join(f"{k} {v}" for k, v in info.items() if k != "date") + ".\n\n"
        "Costs are p-median costs (lower is better); `bound` is the proven lower bound; "
        "`cost` is recomputed from the returned medians; `tool_status` is what the tool says, "
        "`verified` what we found. Seconds are wall clock including model build, on a shared "
        "2-core machine: relative, not absolute.\n\n"
        f"{main}\n\n## Time ratio ours / competitor (both proven optimal at the optimum)\n\n"
        f"`*` = not proven optimal at the optimum. {means or 'No instance where both proved it.'}"
        f"\n\n{ratios}\n")


# --------------------------------------------------------------------------- main


def instances(args) -> Iterator[Instance]:
    if args.orlib != "none":
        yield from orlib_instances(parse_range(args.orlib))
    if args.tsplib != "none":
        ps = [int(p) for p in args.tsplib_p.split(",")] if args.tsplib_p else None
        yield from tsplib_instances(args.tsplib.split(","), ps)
    if args.synthetic != "none":
        yield from synthetic_instances(args.synthetic.split(","))


def solve_all(inst: Instance, args, skipped: dict[str, str]) -> dict[str, dict]:
    answers = {}
    for solver in args.solvers.split(","):
        limit = getattr(args, f"time_limit_{solver}")
        if solver in skipped:
            answers[solver] = {"skipped": f"skipped: {skipped[solver]}", "tool_status": "—",
                               "claims_optimal": False, "seconds": float("nan")}
            continue
        if solver == "spopt" and inst.cost.shape[0] > args.spopt_max_n:
            continue
        ans = run_isolated(solver, inst, limit, args.formulation, args.grace)
        ans["recomputed"] = recompute(inst, ans["menu"])
        ans["limit"] = limit
        answers[solver] = ans
        print(f"  {solver:5s} {ans['seconds']:8.2f}s  {ans['tool_status']}  "
              f"cost={_fmt(ans['recomputed'])}", flush=True)
    return answers


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orlib", default="1,6,11,16", help="pmed numbers, e.g. 1-10,36 or none")
    ap.add_argument("--tsplib", default="rl1304", help="TSPLIB names, comma-separated, or none")
    ap.add_argument("--tsplib-p", default="", help="p values (default: reference_values.csv)")
    ap.add_argument("--synthetic", default=DEFAULT_SYNTHETIC,
                    help="family:NxM:K:seed,... (families smooth, noisy, ...) or none")
    ap.add_argument("--solvers", default="ours,pbp,spopt")
    ap.add_argument("--formulation", default="auto",
                    choices=("auto", "benders", "radius", "strong"))
    for solver in SOLVERS:
        ap.add_argument(f"--time-limit-{solver}", type=float, default=60.0,
                        help=f"seconds per instance for {solver} (default 60)")
    ap.add_argument("--spopt-max-n", type=int, default=300, help="run spopt only up to n clients")
    ap.add_argument("--grace", type=float, default=30.0, help="kill at 2 x limit + grace seconds")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    unknown = set(args.solvers.split(",")) - set(SOLVERS)
    if unknown:
        ap.error(f"unknown solver(s) {sorted(unknown)}; choose from {sorted(SOLVERS)}")
    return args


def main(argv=None) -> pd.DataFrame:
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else argv
    command = f"python benchmarks/exact_scale.py {shlex.join(given)}".rstrip()
    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"), **stamp()}
    skipped = {s: r for s in args.solvers.split(",") if (r := missing_reason(s))}
    for solver, reason in skipped.items():
        print(f"skipping {solver}: {reason}", flush=True)
    args.out.mkdir(exist_ok=True)
    rows = []
    with open(args.out / "exact_scale.jsonl", "w") as log:
        for inst in instances(args):
            print(f"{inst.name} (n={inst.cost.shape[0]}, m={inst.cost.shape[1]}, p={inst.p})",
                  flush=True)
            for row in result_rows(inst, solve_all(inst, args, skipped)):
                rows.append(row)
                log.write(json.dumps({**row, "command": command, **info}, default=str) + "\n")
                log.flush()
    results = pd.DataFrame(rows)
    competitors = [s for s in args.solvers.split(",") if s != "ours"]
    limits = {s: getattr(args, f"time_limit_{s}") for s in args.solvers.split(",")}
    write_markdown(args.out / "exact_scale.md", results, competitors, info, command, limits,
                   args.spopt_max_n)
    print(results[["instance", "solver", "cost", "tool_status", "verified", "seconds"]]
          .to_string(index=False))
    print(ratio_table(results, competitors).to_string(index=False))
    return results


if __name__ == "__main__":
    main()
