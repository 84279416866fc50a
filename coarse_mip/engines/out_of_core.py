"""Every engine on profit rows beyond memory (a Dask array in row chunks), with the same certificate.

The engines are not rewritten: what needs random access runs on rows brought into memory, and
what proves the answer is a pass over all rows (the row-pass layer's Dask backend):

1. the rows fit in ``GATHER_BYTES`` (float64): all of them are brought in and the engine runs as
   in memory (the answer and its bound are those of the same rows);
2. else, if a 20,000-row probe shows repeated rows, the distinct rows (a hash pass, then a pass
   that checks every row against its group's first) are brought in with their summed weights
   when they fit: the same problem (Red2), solved in memory;
3. else the engine searches a seeded uniform sample of ``SAMPLE_ROWS`` rows (weights scaled to
   the total), its menu is polished by swaps on all rows (one pass per swap), and the bound is
   the Benders LP bound (formulations/benders.md, B7) of all rows, whose roundings may improve
   the menu. The exact engine's finish (branch and bound) needs the rows in memory: on this path
   ``exact`` is proven only when the LP bound closes the gap, else it returns ``feasible`` with
   its gap (``stats["finish"]`` says so); Lloyd's menu is reported as it is, unpolished.
   Side constraints need case 1.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .. import rows
from ..bounds.benders import benders_lp
from ..problem import Problem
from ..reductions import identical_rows, worth_merging
from ..search import pad_menu, swap_search
from .spec import EngineResult, EngineSpec, SolveContext

__all__ = ["GATHER_BYTES", "SAMPLE_ROWS", "run_out_of_core"]

logger = logging.getLogger(__name__)

#: Rows beyond memory are brought into memory whole (or merged) when float64 takes at most this.
GATHER_BYTES = 2 * 2**30
#: Rows of the seeded sample the engine searches when they are not.
SAMPLE_ROWS = 200_000


def run_out_of_core(spec: EngineSpec, problem: Problem, K: int, ctx: SolveContext, options: dict,
                    side=None) -> tuple[EngineResult, Problem]:
    """Run ``spec`` on the out-of-memory ``problem``: (result, the problem to certify it on: the
    in-memory rows when they were brought in, else ``problem`` itself)."""
    P, w = problem.profits, problem.weights
    n, m = P.shape
    t0 = time.perf_counter()
    local, how = None, None
    if 8 * n * m <= GATHER_BYTES:
        local, how = Problem(rows.take(P, np.arange(n)), w, problem.labels), "all rows in memory"
    elif side is not None:
        raise ValueError(f"side constraints need the profit rows in memory: {n} x {m} rows take more than "
                         f"GATHER_BYTES = {GATHER_BYTES} bytes as float64")
    elif worth_merging(P):
        first, inverse = identical_rows(P)
        if 8 * first.size * m <= GATHER_BYTES:
            merged = np.bincount(inverse, weights=w, minlength=first.size)
            local, how = Problem(rows.take(P, first), merged, problem.labels), "distinct rows in memory"
    if local is None:
        return _sampled(spec, problem, K, ctx, options), problem
    run = spec.run(local, K, ctx, **options) if side is None else spec.run(local, K, ctx, side=side, **options)
    run = run._replace(stats=dict(run.stats, out_of_core=how, gather_s=time.perf_counter() - t0))
    # Merged rows give every menu the same value as all rows: the bound holds for them; the
    # Solution's assignment is still one entry per row of ``problem``.
    return run, local if how == "all rows in memory" else problem


def _sampled(spec: EngineSpec, problem: Problem, K: int, ctx: SolveContext, options: dict) -> EngineResult:
    """Case 3 of the module docstring."""
    P, w = problem.profits, problem.weights
    n, m = P.shape
    t0 = time.perf_counter()
    pick = np.sort(ctx.rng.choice(n, size=SAMPLE_ROWS, replace=False))
    ws = w[pick]
    scale = w.sum() / ws.sum() if ws.sum() > 0 else 1.0
    sample = Problem(rows.take(P, pick), ws * scale, problem.labels)
    stats = {"out_of_core": "sample searched, all rows polished and bounded", "sample_rows": SAMPLE_ROWS,
             "sample_s": time.perf_counter() - t0}
    run = spec.run(sample, K, ctx, **options)
    stats.update({f"sample_{k}": v for k, v in run.stats.items() if isinstance(v, (int, float, str))})
    menu = np.unique(np.asarray(run.menu, dtype=np.intp))
    K = min(K, m)
    if K >= m:
        return EngineResult(np.arange(m), problem.full_value(), stats)
    # Lloyd's answer is reported as it is (as in memory); the other searches are polished.
    adopt = spec.name != "lloyd"
    if adopt:
        t1 = time.perf_counter()
        menu, stats["polish_swaps"] = swap_search(P, w, pad_menu(menu, K, m), deadline=ctx.deadline)
        stats["polish_s"] = time.perf_counter() - t1
    if spec.name == "greedy" or options.get("bound") == "none":
        return EngineResult(menu, problem.full_value(), stats)
    lp = benders_lp(P, w, K, menu, gap_tol=max(ctx.mip_gap, 1e-9), seed=ctx.highs_seed,
                    deadline=None if ctx.deadline is None else max(ctx.deadline, time.perf_counter() + 1e-3))
    stats.update(lp.stats, lp_bound=lp.bound, bound_menu_better=not np.array_equal(lp.menu, menu))
    if spec.name == "exact":
        closed = lp.value >= lp.bound - max(ctx.mip_gap * abs(lp.value), 1e-9 * max(1.0, abs(lp.value)))
        stats["finish"] = "LP bound" if closed else "none: branch and bound needs the rows in memory"
    logger.info("out of core: sample menu, LP bound %.6g over all rows", lp.bound)
    return EngineResult(lp.menu if adopt else menu, lp.bound, stats)
