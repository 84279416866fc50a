"""Upper bounds that certify a heuristic menu without solving the MIP."""

from __future__ import annotations

import time

import numpy as np

from ..exact import radius
from ..exact.highs import run_highs

__all__ = ["lp_bound"]


def lp_bound(P: np.ndarray, w: np.ndarray, K: int, *, time_limit: float | None = None,
             seed: int = 0) -> tuple[float, dict]:
    """LP relaxation of the aggregated radius model (formulations/radius.md, y relaxed).

    Its value equals the strong formulation's LP bound. ``P`` (n, m) with ``K < m`` and
    ``w > 0``. Returns (bound, figures); the bound is +inf when the LP did not finish.
    """
    t0 = time.perf_counter()
    nodes = radius.radius_nodes(P, w, K)
    model = radius.build_model(nodes, P.shape[1], K, relax=True)
    build_s = time.perf_counter() - t0
    remaining = None if time_limit is None else max(0.0, time_limit - build_s)
    run = run_highs(model, [], time_limit=remaining, seed=seed)
    stats = {"bound_source": "LP relaxation (radius)", "lp_status": run.raw_status,
             "lp_rows": run.stats["rows"], "lp_nonzeros": run.stats["nonzeros"],
             "lp_s": time.perf_counter() - t0}
    return run.bound, stats
