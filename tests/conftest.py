"""Shared test helpers: seeded instance families and the path to shared/ benchmarks."""

from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from coarse_mip.datasets import synthetic_profits

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ORLIB = SHARED / "benchmarks" / "orlib-pmed"
TSPLIB = SHARED / "benchmarks" / "tsplib-pmedian"


def random_instance(seed: int, family: str):
    """(profits, K, weights) of a tiny seeded instance; about a third carry non-unit weights."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    m = int(rng.integers(1, 9))
    K = int(rng.integers(1, m + 2))            # K >= m included
    if seed % 7 == 0:
        K = 1
    P = synthetic_profits(n, m, family, seed=seed)
    weights = None
    if seed % 3 == 0:
        weights = rng.integers(0, 4, size=n).astype(float) + rng.random(n) * (seed % 2)
        weights[rng.integers(n)] += 1.0        # never all zero
    return P, K, weights


def weighted_instances(family: str, count: int, *, seed: int, n_min: int = 2, n_max: int = 40):
    """``count`` seeded (P, w, K, optimum) with 1 <= K < m and positive weights, for the
    engines' internals (arrays, not the API); the optimum is from enumeration."""
    from coarse_mip.search import enumerate_menus

    rng = np.random.default_rng(seed)
    for k in range(count):
        n, m = int(rng.integers(n_min, n_max)), int(rng.integers(3, 12))
        K = int(rng.integers(1, m))
        P = synthetic_profits(n, m, family, seed=k)
        w = rng.random(n) + 0.1
        yield P, w, K, enumerate_menus(P, w, K)[1]


@pytest.fixture
def orlib():
    if not ORLIB.is_dir():
        pytest.skip(f"shared benchmarks not found at {ORLIB}")
    return ORLIB


@pytest.fixture(scope="session")
def tsplib():
    if not TSPLIB.is_dir():
        pytest.skip(f"shared benchmarks not found at {TSPLIB}")
    return TSPLIB


@pytest.fixture(scope="module")
def one_thread():
    """BLAS/OpenMP on one thread for a module: oversubscription makes boosting fits many times
    slower on a busy 2-core box."""
    with threadpool_limits(limits=1):
        yield


#: Row backends the row-pass layer has, each with how a test puts an (n, m) array into it.
ROW_BACKENDS = {"numpy": lambda P: np.ascontiguousarray(P, dtype=np.float64)}


@pytest.fixture(params=sorted(ROW_BACKENDS))
def as_rows(request):
    """Store a profit matrix in each backend of the row-pass layer (like POT's ``nx`` fixture)."""
    return ROW_BACKENDS[request.param]
