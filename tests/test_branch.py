"""Lagrangian branch and bound: exact against enumeration; a time-out keeps a valid bound."""

import time

import numpy as np
import pytest

from coarse_mip.datasets import FAMILIES, synthetic_profits
from coarse_mip.search import branch_and_bound, enumerate_menus, lp_branch_and_bound, tree_search
from coarse_mip.search.tree import ORDERS

from .conftest import weighted_instances


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("family", FAMILIES)
def test_branch_and_bound_matches_enumeration(family, order):
    for P, w, K, opt in weighted_instances(family, 40, seed=1):
        # A poor start (the first K columns) and crude multipliers: the search must do the work.
        menu, value, bound, figures = branch_and_bound(P, w, K, np.arange(K), P[:, :K].max(axis=1), order=order)
        assert figures["bb_complete"] and menu.size <= K
        assert value == pytest.approx(opt, rel=1e-9, abs=1e-9)
        assert value == pytest.approx(w @ P[:, menu].max(axis=1), rel=1e-12, abs=1e-12)
        assert bound == value


def test_compiled_and_numpy_node_passes_give_the_same_search(monkeypatch):
    # The node bound's passes over P are compiled; their numpy twin (row blocks of 4 here)
    # must search the same tree.
    import coarse_mip.kernels.node_bound as node_bound

    for P, w, K, opt in weighted_instances("uniform", 20, seed=5, n_min=10):
        compiled = branch_and_bound(P, w, K, np.arange(K), P[:, :K].max(axis=1))
        with monkeypatch.context() as patch:
            patch.setattr(node_bound, "_kernels", False)
            blocked = branch_and_bound(P, w, K, np.arange(K), P[:, :K].max(axis=1), block_rows=4)
        assert blocked[1] == pytest.approx(opt, rel=1e-9, abs=1e-9)
        assert compiled[1] == pytest.approx(opt, rel=1e-9, abs=1e-9)
        assert blocked[3]["bb_nodes"] == compiled[3]["bb_nodes"]


@pytest.mark.parametrize("whole_rows", [False, True])
@pytest.mark.parametrize("n_cols", [0, 1, 5, 12])
def test_node_pass_kernels_agree_with_numpy(monkeypatch, whole_rows, n_cols):
    import coarse_mip.kernels.node_bound as node_bound

    rng = np.random.default_rng(n_cols + 10 * whole_rows)
    P = np.round(rng.normal(size=(37, 12)), 1)                     # ties with the levels
    sel = np.arange(37) if whole_rows else np.sort(rng.choice(37, size=20, replace=False))
    cols = np.sort(rng.choice(12, size=n_cols, replace=False))
    level = np.round(rng.normal(size=sel.size), 1)
    weights = rng.random(sel.size)
    got = (node_bound.excess_sums(P, sel, cols, level, weights), node_bound.counts_above(P, sel, cols, level),
           node_bound.row_max(P, cols))
    with monkeypatch.context() as patch:
        patch.setattr(node_bound, "_kernels", False)
        ref = (node_bound.excess_sums(P, sel, cols, level, weights, block=3),
               node_bound.counts_above(P, sel, cols, level), node_bound.row_max(P, cols))
    X = P[np.ix_(sel, cols)]
    assert np.allclose(ref[0], weights @ np.maximum(X - level[:, None], 0.0), rtol=1e-12, atol=1e-12)
    assert (ref[1] == (X > level[:, None]).sum(axis=1)).all()
    assert np.allclose(got[0], ref[0], rtol=1e-12, atol=1e-12)
    assert (got[1] == ref[1]).all() and (got[2] == ref[2]).all()
    assert (ref[2] == (P[:, cols].max(axis=1) if n_cols else np.full(37, -np.inf))).all()
    for T in (1, 3, 12):                          # short lists: many rows read in full
        tops = node_bound.node_tops(P, T)
        assert np.allclose(node_bound.excess_sums(P, sel, cols, level, weights, tops=tops), ref[0],
                           rtol=1e-12, atol=1e-12)
        assert (node_bound.counts_above(P, sel, cols, level, tops=tops) == ref[1]).all()
        assert (node_bound.row_max(P, cols, tops=tops) == ref[2]).all()


def test_time_out_returns_incumbent_and_valid_bound():
    P = synthetic_profits(400, 30, "uniform", seed=3)
    w = np.ones(400)
    _, opt = enumerate_menus(P, w, 3)
    menu, value, bound, figures = branch_and_bound(P, w, 3, np.arange(3), P[:, :3].max(axis=1),
                                                   deadline=time.perf_counter())
    assert not figures["bb_complete"]
    assert value <= opt + 1e-9 and bound >= opt - 1e-9


@pytest.mark.parametrize("order", ORDERS)
def test_stopped_search_keeps_a_valid_bound(order):
    # Stopped after a few nodes, the bound comes from the open nodes' bounds (the out-child's
    # is the parent's less its branching column, B11): it must still cover the optimum.
    stopped = 0
    rng = np.random.default_rng(8)
    for seed in range(8):
        P = synthetic_profits(300, 18, ("noisy", "uniform")[seed % 2], seed=seed)
        w = rng.random(300) + 0.1
        K = 3 + seed % 3
        opt = enumerate_menus(P, w, K)[1]
        for max_nodes in (1, 2, 3, 5, 8, 13):
            _, value, bound, figures = branch_and_bound(P, w, K, np.arange(K), P[:, :K].max(axis=1),
                                                        order=order, max_nodes=max_nodes, node_iter=5)
            tol = 1e-9 * max(1.0, abs(opt))
            assert value <= opt + tol and bound >= opt - tol
            stopped += not figures["bb_complete"] and bound > value + tol
    assert stopped >= 20


def test_unknown_order_is_refused():
    P = synthetic_profits(20, 5, "uniform", seed=0)
    with pytest.raises(ValueError, match="order"):
        branch_and_bound(P, np.ones(20), 2, np.arange(2), P[:, :2].max(axis=1), order="breadth")
    with pytest.raises(ValueError, match="order"):
        tree_search(None, lambda node: [], None, order="widest")



def _lagrangian(P, w, K, inside, outside, mu):
    """L(mu) of B11 as written, without any projection."""
    rho = w @ np.maximum(P - mu[:, None], 0.0)
    free = np.flatnonzero(~(inside | outside))
    k_free = K - int(inside.sum())
    return float(w @ mu + rho[inside].sum() + np.sort(rho[free])[::-1][:k_free].sum())


def test_projected_multipliers_never_raise_the_node_bound_and_stay_valid():
    # B11: clipping mu to [best forced-in profit, best profit outside F0] never raises L, and
    # the node bound is >= every menu of the node.
    from itertools import combinations

    from coarse_mip.bounds import lagrangian_node_bound as _node_bound

    rng = np.random.default_rng(7)
    for P, w, K, _ in weighted_instances("noisy", 40, seed=4):
        m = P.shape[1]
        cols = rng.permutation(m)
        n_in = int(rng.integers(0, K))
        n_out = int(rng.integers(0, m - K + 1))
        inside, outside = np.zeros(m, bool), np.zeros(m, bool)
        inside[cols[:n_in]] = True
        outside[cols[n_in:n_in + n_out]] = True
        mu = P.mean(axis=1) + rng.normal(0, 0.3, P.shape[0])
        floor = P[:, inside].max(axis=1) if n_in else np.full(P.shape[0], -np.inf)
        cap = P[:, ~outside].max(axis=1)
        assert _lagrangian(P, w, K, inside, outside, np.clip(mu, floor, cap)) <= \
            _lagrangian(P, w, K, inside, outside, mu) + 1e-9
        free = np.flatnonzero(~(inside | outside))
        best = max(w @ P[:, np.concatenate([np.flatnonzero(inside), extra])].max(axis=1)
                   for extra in map(list, combinations(free, K - n_in)))
        bound = _node_bound(P, w, K, inside, outside, mu, best, 30)[0]     # Polyak steps aim at best
        assert bound >= best - 1e-9


class _Best:
    value = -np.inf


def _leaf_tree(depth: int, seed: int):
    """A binary tree over bit strings whose leaves hold random values; a node's bound is its
    best leaf plus slack that shrinks with depth (valid, not tight)."""
    leaves = np.random.default_rng(seed).random(2**depth)
    best = _Best()

    def expand(node):
        level, index = node
        if level == depth:
            best.value = max(best.value, leaves[index])
            return []
        children = [(level + 1, 2 * index + b) for b in (0, 1)]
        return [(c, leaves[c[1] << (depth - c[0]):(c[1] + 1) << (depth - c[0])].max() + 0.1 * (depth - c[0]))
                for c in children]

    return leaves, best, expand


@pytest.mark.parametrize("max_open", [None, 1, 3])
@pytest.mark.parametrize("order", ORDERS)
def test_tree_search_finds_the_best_leaf_and_bounds_its_open_nodes(order, max_open):
    for seed in range(5):
        leaves, best, expand = _leaf_tree(8, seed)
        bound, figures = tree_search((0, 0), expand, best, order=order, max_open=max_open)
        assert figures["bb_complete"] and best.value == bound == leaves.max()
        for stop in (3, 10, 40):
            leaves, best, expand = _leaf_tree(8, seed)
            bound, figures = tree_search((0, 0), expand, best, order=order, max_open=max_open, max_nodes=stop)
            assert bound >= leaves.max()
            if order == "best" and max_open is not None:
                assert figures["bb_open"] <= max_open + 2 * 8      # the heap, plus a depth-first dive


def _root_lp(P, w, K):
    """The Benders LP of ``P`` from a poor start (the first K columns), one cut per row."""
    from coarse_mip.bounds import benders_lp

    return benders_lp(P, w, K, np.arange(K), max_groups=P.shape[0])


def _gapped_instances(family: str, count: int):
    """(P, w, K, optimum) with 10-15 columns and 30-70 rows: uniform, tied and negative profits
    leave LP gaps there, so the tree branches (the smaller ``weighted_instances`` mostly close
    at the root)."""
    rng = np.random.default_rng(11)
    for k in range(count):
        n, m, K = int(rng.integers(30, 70)), int(rng.integers(10, 16)), int(rng.integers(2, 6))
        P = synthetic_profits(n, m, family, seed=100 + k)
        w = rng.random(n) + 0.1
        yield P, w, K, enumerate_menus(P, w, K)[1]


@pytest.mark.parametrize("strong, order", [(0, "depth"), (4, "best"), (2, "depth")])
@pytest.mark.parametrize("family", FAMILIES)
def test_lp_branch_and_bound_matches_enumeration(family, strong, order):
    branched = 0
    for P, w, K, opt in _gapped_instances(family, 20):
        lp = _root_lp(P, w, K)
        menu, value, bound, figures = lp_branch_and_bound(P, w, K, np.arange(K), lp, strong=strong, order=order,
                                                          descent_share=0.0)
        assert figures["bb_complete"] and menu.size <= K
        assert value == pytest.approx(opt, rel=1e-9, abs=1e-9)
        assert value == pytest.approx(w @ P[:, menu].max(axis=1), rel=1e-12, abs=1e-12)
        assert bound == value
        branched += figures["bb_nodes"] > 1
    assert branched >= (10 if family in ("uniform", "ties", "negative") else 0)


def test_lp_branch_and_bound_stopped_keeps_a_valid_bound():
    # Uniform profits leave LP gaps: stopped after a few nodes, the open nodes' bounds (strong
    # branching's child LPs) must still cover the optimum.
    stopped = 0
    for seed in range(6):
        P = synthetic_profits(60, 14, "uniform", seed=seed)
        w = np.random.default_rng(seed).random(60) + 0.1
        K = 3 + seed % 3
        opt = enumerate_menus(P, w, K)[1]
        for max_nodes in (1, 2, 4):
            lp = _root_lp(P, w, K)
            _, value, bound, figures = lp_branch_and_bound(P, w, K, np.arange(K), lp, max_nodes=max_nodes,
                                                           descent_share=0.0)
            tol = 1e-9 * max(1.0, abs(opt))
            assert value <= opt + tol and bound >= opt - tol
            stopped += not figures["bb_complete"] and bound > value + tol
    assert stopped >= 6


def test_purged_master_keeps_its_lp_value():
    # Cuts with a zero dual at the LP optimum are deleted; the LP value must not move.
    for family in ("uniform", "noisy"):
        P = synthetic_profits(200, 25, family, seed=4)
        w = np.ones(200)
        lp = _root_lp(P, w, 4)
        before = lp.master.solve()[0]
        cuts = lp.master.cuts
        purged = lp.master.purge()
        assert purged > 0 and lp.master.cuts == cuts - purged
        assert lp.master.session.num_rows == lp.master.first_cut_row + lp.master.cuts
        assert lp.master.solve()[0] == pytest.approx(before, rel=1e-9)
