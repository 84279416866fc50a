"""Every engine against exhaustive enumeration on many small seeded instances."""

import numpy as np
import pytest

import coarse_mip as cm
from coarse_mip.datasets import FAMILIES

from .conftest import random_instance

SEEDS = range(45)          # 45 seeds x 5 families = 225 instances per engine variant
#: (formulation, how Benders finishes): every exact path.
VARIANTS = [("radius", "auto"), ("strong", "auto"), ("benders", "branch"), ("benders", "lp-branch"),
            ("benders", "master-mip"),
            ("benders", "radius")]


@pytest.mark.parametrize("family", FAMILIES)
def test_exact_matches_enumeration(family):
    for seed in SEEDS:
        P, K, w = random_instance(seed, family)
        truth = cm.solve(P, K, "enumerate", weights=w)
        assert truth.status == "optimal"
        for formulation, finish in VARIANTS:
            sol = cm.solve(P, K, "exact", weights=w, formulation=formulation, finish=finish)
            sol.check(P, K, w)
            assert sol.status == "optimal", (seed, formulation)
            assert sol.objective == pytest.approx(truth.objective, rel=1e-9, abs=1e-9), (seed, formulation)
            assert sol.bound == pytest.approx(truth.objective, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("family", FAMILIES)
def test_formulations_without_reductions(family):
    # The formulations alone (no row merging, no dominance) must also be exact.
    for seed in SEEDS[::3]:
        P, K, w = random_instance(seed, family)
        truth = cm.solve(P, K, "enumerate", weights=w)
        for formulation, finish in VARIANTS:
            sol = cm.solve(P, K, "exact", weights=w, formulation=formulation, finish=finish, reduce=False)
            assert sol.objective == pytest.approx(truth.objective, rel=1e-9, abs=1e-9), (seed, formulation)


@pytest.mark.parametrize("family", FAMILIES)
def test_greedy_never_beats_optimum_and_bound_is_valid(family):
    for seed in SEEDS:
        P, K, w = random_instance(seed, family)
        truth = cm.solve(P, K, "enumerate", weights=w)
        sol = cm.solve(P, K, "greedy", weights=w)
        sol.check(P, K, w)
        assert sol.objective <= truth.objective + 1e-9
        assert sol.bound >= truth.objective - 1e-9
        assert (sol.status == "optimal") == (sol.gap <= 1e-9)


def test_k_at_least_m_is_full_personalization():
    P = np.array([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]])
    for method in ("exact", "enumerate", "greedy"):
        sol = cm.solve(P, 5, method)
        assert sol.objective == 9.0 and sol.status == "optimal" and sol.treatments == (0, 1)


def test_medium_instance_formulations_agree():
    from coarse_mip.datasets import synthetic_profits

    P = synthetic_profits(400, 15, "noisy", seed=3)
    a = cm.solve(P, 4, "exact", formulation="radius")
    b = cm.solve(P, 4, "exact", formulation="strong")
    assert a.status == b.status == "optimal"
    assert a.objective == pytest.approx(b.objective, rel=1e-9)


@pytest.mark.parametrize("n, m, K", [(80, 16, 4), (120, 20, 12)])
def test_medium_instance_benders_finishes_agree_with_radius(n, m, K):
    # Uniform profits leave an LP gap, so every finish has to run; K = 12 > AUTO_BRANCH_K
    # sends auto to the master MIP.
    from coarse_mip.datasets import synthetic_profits

    P = synthetic_profits(n, m, "uniform", seed=3)
    ref = cm.solve(P, K, "exact", formulation="radius")
    assert ref.status == "optimal"
    for finish in ("auto", "branch", "lp-branch", "master-mip", "radius"):
        sol = cm.solve(P, K, "exact", formulation="benders", finish=finish)
        assert sol.status == "optimal" and sol.stats["finish"] != "LP bound", finish
        assert sol.objective == pytest.approx(ref.objective, rel=1e-9), finish
        if finish == "auto":
            assert sol.stats["finish"] == ("branch" if K <= 10 else "master-mip")


def test_auto_finish_follows_the_root():
    # B14: node LPs only with one cut per row, a small root gap and a small menu.
    from coarse_mip.engines.exact import _auto_finish

    assert _auto_finish(5, 100, 1e-3, True) == "lp-branch"
    assert _auto_finish(10, 100, 1e-3, True) == "lp-branch"
    assert _auto_finish(5, 100, 1e-2, True) == "branch"
    assert _auto_finish(5, 100, 1e-3, False) == "branch"
    assert _auto_finish(20, 100, 1e-3, True) == "master-mip"
    assert _auto_finish(20, 1000, 1e-3, True) == "lp-branch"
    assert _auto_finish(20, 1000, 1e-2, True) == "master-mip"


def test_row_cuts_within_the_nonzero_budget(monkeypatch):
    # B4: above ROW_CUT_ROWS, one cut per row only when the row cuts are sparse per row or in all.
    import coarse_mip.engines.exact as exact

    P = np.random.default_rng(3).uniform(size=(700, 25))
    menu = np.array([0, 1, 2])
    nnz = exact._mean_cut_nnz(P, menu)
    assert 0 < nnz <= 25
    assert exact._max_groups(P, menu) == 700                      # n <= ROW_CUT_ROWS
    monkeypatch.setattr(exact, "ROW_CUT_ROWS", 100)
    monkeypatch.setattr(exact, "SPARSE_CUT_NNZ", nnz)
    assert exact._max_groups(P, menu) == 700                      # sparse per row
    monkeypatch.setattr(exact, "SPARSE_CUT_NNZ", nnz / 2)
    monkeypatch.setattr(exact, "ROW_CUT_NNZ", 700 * nnz)
    assert exact._max_groups(P, menu) == 700                      # sparse in all
    monkeypatch.setattr(exact, "ROW_CUT_NNZ", 700 * nnz / 2)
    assert exact._max_groups(P, menu) == 512
    monkeypatch.setattr(exact, "SPARSE_ROW_CUT_ROWS", 500)
    monkeypatch.setattr(exact, "ROW_CUT_NNZ", 1e12)
    assert exact._max_groups(P, menu) == 512                      # too many rows to count


def test_master_mip_polish_hook():
    # B17: each open round's menu goes through the polish and what it returns is offered: a useless
    # polish cannot spoil the result, and one that returns the optimum gives it after one round
    # (here the master's first menu is not optimal: 112.557 against 112.633).
    from coarse_mip.bounds import benders_lp, master_mip
    from coarse_mip.datasets import synthetic_profits

    P = synthetic_profits(120, 20, "uniform", seed=2)
    w, K = np.ones(120), 12
    truth = cm.solve(P, K, "enumerate")
    opt, start = np.asarray(truth.treatments), np.arange(K)

    def run(polish, **kw):
        lp = benders_lp(P, w, K, start, max_groups=120)
        menu, bound, figures = master_mip(P, w, K, start, lp, np.ones(20, bool), polish=polish, **kw)
        return P[:, menu].max(axis=1).sum(), bound, figures

    calls = []
    value, bound, figures = run(lambda menu: calls.append(menu) or start)
    # Every round polishes but one whose own menu already meets the bound; HiGHS' improving
    # menus within a round are polished too.
    assert len(calls) >= figures["master_mip_rounds"] - 1
    assert value == pytest.approx(truth.objective, rel=1e-9) and bound == pytest.approx(truth.objective, rel=1e-9)
    value, _, figures = run(lambda menu: opt, max_rounds=1)
    assert value == pytest.approx(truth.objective, rel=1e-9) and figures["master_mip_polished"] == 1
