"""Shared test helpers: seeded instance families and the path to shared/ benchmarks."""

from pathlib import Path

import numpy as np
import pytest

from coarse_mip.datasets import synthetic_profits

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ORLIB = SHARED / "benchmarks" / "orlib-pmed"


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


@pytest.fixture
def orlib():
    if not ORLIB.is_dir():
        pytest.skip(f"shared benchmarks not found at {ORLIB}")
    return ORLIB
