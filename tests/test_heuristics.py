"""Heuristic engines: never better than the optimum, bounds always valid, deterministic."""

import numpy as np
import pytest

import coarse_mip as cm
from coarse_mip.datasets import FAMILIES, synthetic_profits
from coarse_mip.kernels import CompiledSwapState, SwapState
from coarse_mip.search import descend_from_lp, greedy_menu, lloyd_menu, swap_search

from .conftest import random_instance


@pytest.mark.parametrize("method", ["heuristic", "lloyd"])
@pytest.mark.parametrize("family", FAMILIES)
def test_against_enumeration(method, family):
    hits = 0
    for seed in range(30):
        P, K, w = random_instance(seed, family)
        truth = cm.solve(P, K, "enumerate", weights=w)
        sol = cm.solve(P, K, method, weights=w, seed=seed)
        sol.check(P, K, w)
        assert sol.objective <= truth.objective + 1e-9 * max(1, abs(truth.objective))
        assert sol.bound >= truth.objective - 1e-9 * max(1, abs(truth.objective))
        if sol.status == "optimal":
            assert sol.objective == pytest.approx(truth.objective, rel=1e-9, abs=1e-9)
        hits += np.isclose(sol.objective, truth.objective, rtol=1e-9, atol=1e-9)
    if method == "heuristic":
        assert hits >= 28      # swap + shakes find the optimum on (almost) every tiny case


def _greedy_by_recomputing(P, w, K, start):
    menu = list(start)
    while len(menu) < min(K, P.shape[1]):
        best = P[:, menu].max(axis=1)
        gain = w @ np.maximum(P - best[:, None], 0.0)
        gain[menu] = -np.inf
        if not gain.max() > 0:
            break
        menu.append(int(np.argmax(gain)))
    return np.sort(menu)


@pytest.mark.parametrize("family", FAMILIES)
def test_greedy_updates_match_recomputed_gains(family):
    # The running gains must pick the same columns as gains recomputed from scratch each step.
    for seed in range(25):
        P, K, w = random_instance(seed, family)
        w = np.ones(P.shape[0]) if w is None else w
        start = [int(np.argmax(w @ P))] if seed % 2 else [seed % P.shape[1]]
        want = _greedy_by_recomputing(P, w, K + seed % 3, start)
        got = greedy_menu(P, w, K + seed % 3, start=None if seed % 2 else start)
        assert np.array_equal(got, want), (family, seed)


BACKENDS = ["dense", "sparse", "compiled"]


def _state(backend, P, w, menu):
    return CompiledSwapState(P, w, menu) if backend == "compiled" else SwapState(P, w, menu, sparse=backend == "sparse")


@pytest.mark.parametrize("backend", BACKENDS)
def test_swap_gains_match_brute_force(backend):
    rng = np.random.default_rng(0)
    for seed in range(20):
        P = synthetic_profits(40, 9, "noisy" if seed % 2 else "ties", seed=seed)
        w = rng.random(40) + 0.1
        menu = np.sort(rng.choice(9, size=3, replace=False))
        state = _state(backend, P, w, menu)
        gains = state.gains()
        base = w @ P[:, menu].max(axis=1)
        for r in range(3):
            for u in np.setdiff1d(np.arange(9), menu):
                trial = menu.copy()
                trial[r] = u
                assert gains[r, u] == pytest.approx(w @ P[:, trial].max(axis=1) - base, abs=1e-9)
        r, u, gain = state.best_swap()
        assert u not in menu and gain == pytest.approx(gains.max(), abs=1e-9)
        assert gains[r, u] == pytest.approx(gain, abs=1e-9)


def test_swap_result_is_a_local_optimum():
    P = synthetic_profits(500, 15, "noisy", seed=3)
    w = np.ones(500)
    menu, _ = swap_search(P, w, np.arange(4))
    assert SwapState(P, w, menu).gains().max() <= 1e-9


@pytest.mark.parametrize("backend", BACKENDS)
def test_incremental_swaps_match_a_fresh_state(backend):
    rng = np.random.default_rng(5)
    for seed in range(10):
        P = synthetic_profits(300, 12, ("noisy", "ties", "negative", "smooth")[seed % 4], seed=seed)
        w = rng.random(300) + 0.1
        state = _state(backend, P, w, np.array([0, 3, 7]))
        for _ in range(15):
            r, u = rng.integers(3), rng.choice(np.setdiff1d(np.arange(12), state.menu))
            state.swap(r, u)
        fresh = _state(backend, P, w, state.menu)
        assert state.value == pytest.approx(fresh.value, rel=1e-12)
        np.testing.assert_allclose(state.gains(), fresh.gains(), rtol=1e-9, atol=1e-9)


def test_compiled_and_numpy_backends_take_the_same_swaps():
    # Without ties both descents take the same best swap at every step, so they end at the same
    # menu with the same number of swaps; through local_search as the engines run it.
    from coarse_mip.search import local_search

    for seed in range(8):
        P = synthetic_profits(400, 30, ("noisy", "uniform", "smooth", "negative")[seed % 4], seed=seed)
        P = P + 1e-7 * np.random.default_rng(seed).random(P.shape)          # no exact ties
        w = np.random.default_rng(seed).random(400) + 0.5
        start = np.sort(np.random.default_rng(seed).choice(30, size=3 + seed, replace=False))
        ends = []
        for backend in BACKENDS:
            state = _state(backend, P, w, start)
            swaps = local_search(state)
            ends.append((np.sort(state.menu).tolist(), swaps))
            assert state.value == pytest.approx(w @ P[:, state.menu].max(axis=1), rel=1e-12)
        assert ends[0] == ends[1] == ends[2], seed


def test_same_seed_same_answer():
    P = synthetic_profits(400, 25, "uniform", seed=8)
    for method in ("heuristic", "lloyd"):
        a = cm.solve(P, 5, method, seed=3)
        b = cm.solve(P, 5, method, seed=3)
        assert a.treatments == b.treatments and a.objective == b.objective


def test_lloyd_never_decreases_from_its_start():
    P = synthetic_profits(300, 20, "smooth", seed=2)
    w = np.ones(300)
    start = np.array([0, 5, 10])
    menu, info = lloyd_menu(P, w, 3, rng=np.random.default_rng(0), restarts=1, start=start)
    assert w @ P[:, menu].max(axis=1) >= w @ P[:, start].max(axis=1) - 1e-12


def test_heuristic_time_limit_and_options():
    P = synthetic_profits(2000, 30, "noisy", seed=1)
    sol = cm.solve(P, 5, "heuristic", time_limit=5, bound="none", shakes=3)
    assert sol.stats["bound_source"] == "full personalization" and sol.bound >= sol.objective
    with pytest.raises(ValueError, match="bound must be"):
        cm.solve(P, 5, "lloyd", bound="magic")


def test_heuristic_stops_at_the_requested_gap():
    P = synthetic_profits(3000, 40, "uniform", seed=6)
    loose = cm.solve(P, 5, "heuristic", mip_gap=0.2)
    tight = cm.solve(P, 5, "heuristic")
    assert loose.status == "optimal" and loose.gap <= 0.2          # proven within the request
    assert loose.stats["benders_iterations"] <= tight.stats["benders_iterations"]
    assert tight.bound <= loose.bound + 1e-9 * abs(loose.bound)


def test_descents_from_an_lp_point_are_seeded_local_optima():
    from coarse_mip.bounds import benders_lp

    P = synthetic_profits(300, 30, "uniform", seed=4)
    w = np.ones(300)
    K = 6
    lp = benders_lp(P, w, K, greedy_menu(P, w, K), max_groups=300)
    runs = [descend_from_lp(P, w, K, lp.y, np.random.default_rng(7)) for _ in range(2)]
    assert len(runs[0]) == 9                                  # the plain rounding and 8 randomized ones
    assert [m.tobytes() for m in runs[0]] == [m.tobytes() for m in runs[1]]       # same seed, same menus
    assert np.array_equal(runs[0][0], swap_search(P, w, np.sort(np.argpartition(-lp.y, K - 1)[:K]))[0])
    for menu in runs[0]:
        assert menu.size == K and np.unique(menu).size == K
        assert SwapState(P, w, menu).gains().max() <= 1e-9 * max(1.0, abs(w @ P[:, menu].max(axis=1)))
