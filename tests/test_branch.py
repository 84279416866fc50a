"""Lagrangian branch and bound: exact against enumeration; a time-out keeps a valid bound."""

import time

import numpy as np
import pytest

from coarse_mip.datasets import FAMILIES, synthetic_profits
from coarse_mip.search import branch_and_bound, enumerate_menus

from .conftest import weighted_instances


@pytest.mark.parametrize("family", FAMILIES)
def test_branch_and_bound_matches_enumeration(family):
    for P, w, K, opt in weighted_instances(family, 40, seed=1):
        # A poor start (the first K columns) and crude multipliers: the search must do the work.
        menu, value, bound, figures = branch_and_bound(P, w, K, np.arange(K), P[:, :K].max(axis=1))
        assert figures["bb_complete"] and menu.size <= K
        assert value == pytest.approx(opt, rel=1e-9, abs=1e-9)
        assert value == pytest.approx(w @ P[:, menu].max(axis=1), rel=1e-12, abs=1e-12)
        assert bound == value


def test_uncopied_row_blocks_give_the_same_search(monkeypatch):
    # Nodes too big to copy (10^6 rows) re-read P in row blocks: force that path on small data.
    import coarse_mip.bounds.lagrangian as lagrangian

    for P, w, K, opt in weighted_instances("uniform", 20, seed=5, n_min=10):
        copied = branch_and_bound(P, w, K, np.arange(K), P[:, :K].max(axis=1))
        with monkeypatch.context() as patch:
            patch.setattr(lagrangian, "NODE_COPY_ENTRIES", 0)
            blocked = branch_and_bound(P, w, K, np.arange(K), P[:, :K].max(axis=1), block_rows=4)
        assert blocked[1] == pytest.approx(opt, rel=1e-9, abs=1e-9)
        assert blocked[3]["bb_nodes"] == copied[3]["bb_nodes"]

def test_time_out_returns_incumbent_and_valid_bound():
    P = synthetic_profits(400, 30, "uniform", seed=3)
    w = np.ones(400)
    _, opt = enumerate_menus(P, w, 3)
    menu, value, bound, figures = branch_and_bound(P, w, 3, np.arange(3), P[:, :3].max(axis=1),
                                                   deadline=time.perf_counter())
    assert not figures["bb_complete"]
    assert value <= opt + 1e-9 and bound >= opt - 1e-9



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
