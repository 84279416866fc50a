"""The Benders LP cut loop: valid bounds, the radius LP's value, and the master's cut rows."""

import numpy as np
import pytest
import scipy.sparse as sp

from coarse_mip.bounds import BendersMaster, benders_lp
from coarse_mip.datasets import FAMILIES, synthetic_profits
from coarse_mip.formulations import radius
from coarse_mip.kernels import TopColumns, separate
from coarse_mip.solver import run_highs

from .conftest import weighted_instances


def row_lp(p, y):
    """max sum_t p_t x_t s.t. sum_t x_t = 1, 0 <= x <= y: fill by decreasing profit."""
    left, value = 1.0, 0.0
    for t in np.argsort(-p, kind="stable"):
        take = min(left, y[t])
        value, left = value + take * p[t], left - take
    return value


def radius_lp(P, w, K):
    nodes = radius.radius_nodes(P, w, K)
    return run_highs(radius.build_model(nodes, P.shape[1], K, relax=True), []).bound


@pytest.mark.parametrize("family", FAMILIES)
def test_sorted_lists_and_sparse_cuts_give_the_same_cuts(family):
    # Short lists (L = 2, 3) leave many rows unfilled: those fall back to the full sort.
    rng = np.random.default_rng(1)
    for seed in range(12):
        n, m = int(rng.integers(5, 60)), int(rng.integers(4, 25))
        P = synthetic_profits(n, m, family, seed=seed)
        w = rng.random(n) + 0.1
        K = int(rng.integers(1, m))
        y = np.where(rng.random(m) < 0.8, rng.random(m), 0.0)
        y = np.minimum(1.0, y * K / max(y.sum(), 1e-9))
        if y.sum() < 1.0:
            y[:] = 1.0
        groups = rng.integers(0, 4, size=n)
        G = int(groups.max()) + 1
        plain = separate(P, w, y, groups, G)
        for L in (2, 3, m):
            top = TopColumns(P, L)
            assert np.array_equal(top.lists(), np.argsort(-P, axis=1, kind="stable")[:, :L])
            listed = separate(P, w, y, groups, G, top=top)
            for a, b in zip(plain, listed, strict=True):
                assert np.array_equal(a, b), (family, seed, L)
        C, d, value, V = separate(P, w, y, groups, G, sparse=True)
        assert sp.issparse(C)
        np.testing.assert_allclose(C.toarray(), plain[0], rtol=1e-12, atol=1e-12)
        assert np.array_equal(d, plain[1]) and np.array_equal(V, plain[3])
        assert value == pytest.approx(plain[2], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_compiled_and_numpy_separation_agree(family, monkeypatch):
    # Dense group sums and, with one row per group (a permutation), CSR rows built directly.
    from coarse_mip.kernels import separation

    rng = np.random.default_rng(2)
    for seed in range(10):
        n, m = int(rng.integers(5, 60)), int(rng.integers(4, 25))
        P = synthetic_profits(n, m, family, seed=seed)
        w = rng.random(n) + 0.1
        y = np.minimum(1.0, rng.random(m) * 3 / m + (rng.random(m) < 0.2))
        y[0] = max(y[0], 1.0)
        if seed % 3 == 0:
            y = (y >= 1.0).astype(float)                        # an integral point
        for groups, sparse in ((rng.integers(0, 4, size=n), False), (rng.permutation(n), True),
                               (rng.permutation(n), False)):
            G = int(groups.max()) + 1
            top = TopColumns(P, (2, m)[seed % 2])             # short lists leave rows to the full sort
            monkeypatch.setattr(separation, "_kernels", False)
            assert np.array_equal(separation._top(P, 3), np.argsort(-P, axis=1, kind="stable")[:, :3])
            want = separate(P, w, y, groups, G, top=top, sparse=sparse)
            monkeypatch.setattr(separation, "_kernels", True)
            got = separate(P, w, y, groups, G, top=top, sparse=sparse)
            assert sp.issparse(got[0]) == sparse
            dense = (lambda C: C.toarray()) if sparse else np.asarray
            np.testing.assert_allclose(dense(got[0]), dense(want[0]), rtol=1e-12, atol=1e-12)
            assert np.array_equal(got[3], want[3])
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
            assert got[2] == pytest.approx(want[2], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("family", FAMILIES)
def test_cut_loop_reaches_the_radius_lp_and_bounds_the_optimum(family):
    for seed, (P, w, K, opt) in enumerate(weighted_instances(family, 12, seed=0, n_min=5, n_max=60)):
        lp = benders_lp(P, w, K, np.arange(K), gap_tol=0.0, max_groups=1 + seed % 7)
        scale = max(1.0, abs(opt))
        assert lp.bound >= opt - 1e-9 * scale                     # a relaxation
        assert lp.value <= opt + 1e-9 * scale                      # the incumbent is a real menu
        assert lp.value == pytest.approx(w @ P[:, lp.menu].max(axis=1), rel=1e-12)
        assert lp.bound == pytest.approx(radius_lp(P, w, K), rel=1e-7, abs=1e-7)


def test_separation_is_tight_at_its_point_and_valid_elsewhere():
    rng = np.random.default_rng(3)
    P = synthetic_profits(200, 9, "noisy", seed=3)
    w = rng.random(200) + 0.1
    groups = rng.integers(0, 4, size=200)
    y = rng.dirichlet(np.ones(9)) * 3
    y = np.minimum(y, 1.0)
    y *= 3 / y.sum()                                               # sum(y) = K = 3, y <= 1 (close)
    y = np.clip(y, 0, 1)
    C, d, f, _ = separate(P, w, y, groups, 4)
    assert f == pytest.approx((d + C @ y).sum())
    assert f == pytest.approx(sum(wi * row_lp(p, y) for wi, p in zip(w, P, strict=True)))   # tight at y
    for _ in range(50):                                            # every integral menu obeys the cuts
        menu = rng.choice(9, size=3, replace=False)
        z = np.zeros(9)
        z[menu] = 1
        value = np.bincount(groups, weights=w * P[:, menu].max(axis=1), minlength=4)
        assert (value <= d + C @ z + 1e-9).all()


def test_master_cut_rows_land_in_highs():
    master = BendersMaster(4, 2, np.array([10.0, 10.0]))
    master.add_cuts(np.array([0, 1]), np.array([[1.0, 0.0, 2.0, 0.0], [0.0, 3.0, 0.0, 0.0]]), np.array([0.5, 1.0]))
    value, y, theta, _ = master.solve()
    assert master.h.getNumRow() == 3 and master.cuts == 2
    assert theta[0] <= 0.5 + y[0] + 2 * y[2] + 1e-9 and theta[1] <= 1.0 + 3 * y[1] + 1e-9
    assert value == pytest.approx(0.5 + 1.0 + 2.0 + 3.0)          # y = e_2 + e_1


@pytest.mark.parametrize("family", ["uniform", "noisy", "negative"])
def test_dual_multipliers_reach_the_lp_bound(family):
    # (B15): mu from the cut duals makes the Lagrangian bound equal the LP bound.
    rng = np.random.default_rng(7)
    for seed in range(8):
        n, m, K = 80, 12, 3
        P = synthetic_profits(n, m, family, seed=seed)
        w = rng.random(n) + 0.2
        lp = benders_lp(P, w, K, np.arange(K), gap_tol=0.0, max_groups=1 + seed * 5)
        mu = lp.multipliers
        rho = w @ np.maximum(P - mu[:, None], 0.0)
        L = w @ mu + np.sort(rho)[-K:].sum()
        assert L == pytest.approx(lp.bound, rel=1e-7, abs=1e-7)


def test_a_separation_past_its_deadline_is_dropped_and_the_bound_stays_valid():
    import time

    from coarse_mip.rows import group_sums
    from coarse_mip.search import enumerate_menus

    P = synthetic_profits(400, 14, "noisy", seed=3)
    w = np.ones(400)
    groups = np.arange(400) % 7
    y = np.full(14, 3 / 14)
    assert separate(P, w, y, groups, 7, group_sums(P, w, groups, 7), deadline=time.perf_counter() - 1) is None
    full = separate(P, w, y, groups, 7, group_sums(P, w, groups, 7), deadline=time.perf_counter() + 60)
    assert full is not None and np.isfinite(full[2])
    # Past its deadline the cut loop still completes its first round: a finite, valid bound.
    opt = enumerate_menus(P, w, 3)[1]
    lp = benders_lp(P, w, 3, np.arange(3), deadline=time.perf_counter() - 1)
    assert lp.stats["benders_iterations"] == 1 and opt - 1e-9 <= lp.bound < np.inf


def test_cut_loop_stops_on_a_dropped_separation_with_a_valid_bound(monkeypatch):
    import time

    import coarse_mip.bounds.benders as benders
    from coarse_mip.search import enumerate_menus

    calls = []

    def late_after_one(*args, deadline=None, **kwargs):
        calls.append(deadline)
        return None if len(calls) > 1 else separate(*args, deadline=deadline, **kwargs)

    monkeypatch.setattr(benders, "separate", late_after_one)
    P = synthetic_profits(300, 12, "uniform", seed=4)
    w = np.ones(300)
    lp = benders_lp(P, w, 3, np.arange(3), deadline=time.perf_counter() + 600, gap_tol=0.0)
    assert calls[0] is None and calls[1] is not None            # the first round has no deadline
    assert lp.stats["benders_iterations"] == 2
    assert enumerate_menus(P, w, 3)[1] - 1e-9 <= lp.bound < np.inf
