"""The single-peaked dynamic program (formulations/ladder.md): detection, both pair-table
kernels, the DP against enumeration and against Benders, and how the engine takes it."""

import numpy as np
import pytest

import coarse_mip as cm
from coarse_mip.datasets import synthetic_profits
from coarse_mip.kernels.ladder import block_peaks, ladder_tables, peaks
from coarse_mip.search import enumerate_menus, ladder_menu


def single_peaked(n: int, m: int, seed: int, *, integer: bool = False) -> np.ndarray:
    """Rows that rise to a random peak and fall after it, with plateaus (zero steps), ties
    across rows (``integer``) and negative values."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(0, 3, size=(n, m)) if integer else rng.random((n, m)) * (rng.random((n, m)) < 0.8)
    peak = rng.integers(0, m, size=n)
    sign = np.where(np.arange(m)[None, :] <= peak[:, None], 1.0, -1.0)
    sign[:, 0] = 1.0
    P = np.cumsum(sign * steps, axis=1)
    return P - rng.integers(0, 4, size=(n, 1))


def test_detection_by_definition():
    rng = np.random.default_rng(0)
    for seed in range(300):
        m = int(rng.integers(1, 7))
        row = rng.integers(0, 3, size=(1, m)).astype(float)
        p = block_peaks(row)[0]
        # (D1) by brute force: some index with a weakly rising prefix and a weakly falling suffix.
        ok = [q for q in range(m) if (np.diff(row[0, : q + 1]) >= 0).all() and (np.diff(row[0, q:]) <= 0).all()]
        assert (p >= 0) == bool(ok), row
        if p >= 0:
            assert p in ok


def test_probe_stops_and_full_count():
    P = single_peaked(5_000, 6, 1)
    P[3, :] = [0, 2, 1, 3, 0, 0]                      # two peaks, inside the probed rows
    assert (peaks(P) >= 0).sum() < 4_999               # probe failed: the rest is not checked
    assert (peaks(P, probe=False) < 0).sum() == 1


@pytest.mark.parametrize("integer", [False, True])
def test_compiled_and_numpy_tables_agree(integer):
    for seed in range(20):
        P = single_peaked(200, 2 + seed % 9, seed, integer=integer)
        w = np.random.default_rng(seed).random(200) + 0.1
        peak = peaks(P)
        assert (peak >= 0).all()
        fast, slow = ladder_tables(P, w, peak), ladder_tables(P, w, peak, compiled=False)
        for a, b in zip(fast, slow, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


def test_dp_matches_enumeration():
    rng = np.random.default_rng(7)
    for seed in range(250):
        n, m = int(rng.integers(1, 40)), int(rng.integers(1, 10))
        K = 1 if seed % 5 == 0 else int(rng.integers(1, m + 2))
        P = single_peaked(n, m, seed, integer=seed % 2 == 0)
        w = np.ones(n) if seed % 3 else rng.random(n) * 3 + 0.01
        menu, value = ladder_menu(ladder_tables(P, w, peaks(P)), K)
        best = enumerate_menus(P, w, min(K, m))[1]
        assert value == pytest.approx(best, rel=1e-12, abs=1e-9), seed
        assert len(menu) <= K and (np.diff(menu) > 0).all()
        assert w @ P[:, menu].max(axis=1) == pytest.approx(best, rel=1e-12, abs=1e-9), seed


def test_engine_takes_dp_and_matches_enumeration():
    for seed in range(60):
        P = single_peaked(30, 7, seed)
        K = 1 + seed % 4
        sol = cm.solve(P, K, "exact")
        sol.check(P, K)
        assert sol.stats["formulation"] == "single-peaked DP (D7-D8)"
        assert sol.status == "optimal"
        truth = cm.solve(P, K, "enumerate")
        assert sol.objective == pytest.approx(truth.objective, rel=1e-12, abs=1e-9)
        assert sol.bound == pytest.approx(truth.objective, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("K", [2, 5, 12])
def test_dp_matches_benders_on_larger(K):
    P = synthetic_profits(20_000, 41, "smooth", seed=K, noise=0.0)
    assert (peaks(P, probe=False) >= 0).all()
    w = np.random.default_rng(K).integers(1, 4, size=P.shape[0]).astype(float)
    dp = cm.solve(P, K, "exact", weights=w, formulation="ladder")
    mip = cm.solve(P, K, "exact", weights=w, formulation="benders")
    assert mip.status == dp.status == "optimal"
    assert dp.objective == pytest.approx(mip.objective, rel=1e-9)
    assert dp.objective <= mip.bound * (1 + 1e-9) and mip.objective <= dp.bound * (1 + 1e-9)


def test_not_single_peaked():
    P = single_peaked(50, 6, 3)
    P[[4, 9]] = [0.0, 2.0, 1.0, 3.0, 0.0, 0.0]
    sol = cm.solve(P, 2, "exact")                     # auto falls through to Benders
    assert sol.stats["formulation"] == "benders"
    assert sol.objective == pytest.approx(cm.solve(P, 2, "enumerate").objective)
    with pytest.raises(ValueError, match="single-peaked.*2 of 50 rows"):
        cm.solve(P, 2, "exact", formulation="ladder")
    with pytest.raises(ValueError, match="side constraints"):
        cm.solve(P, 2, "exact", formulation="ladder", constraints=cm.Constraints(max_load=40))


def test_dp_after_dominated_columns_drop():
    # Row 0 has two peaks only through column 1, which column 3 dominates.
    P = np.array([[0, 2, 1, 3, 0], [0, 1, 0, 2, 5], [4, 0, 0, 1, 0]], dtype=float)
    sol = cm.solve(P, 2, "exact")
    assert sol.stats["formulation"] == "single-peaked DP (D7-D8)"
    assert sol.objective == pytest.approx(cm.solve(P, 2, "enumerate").objective)
    assert cm.solve(P, 2, "exact", formulation="ladder").objective == pytest.approx(sol.objective)
