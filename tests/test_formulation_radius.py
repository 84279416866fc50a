"""The radius nodes reproduce every menu's value exactly (R1, R3, R6, R8)."""

import itertools

import numpy as np
import pytest

from coarse_mip.datasets import FAMILIES, synthetic_profits
from coarse_mip.formulations.radius import radius_nodes


def node_value(nodes, P, menu):
    """Objective of the integer point for ``menu``: constant + sum of reached coefficients."""
    reached = np.zeros(nodes.J, dtype=bool)
    order = np.argsort(-P[nodes.row], axis=1, kind="stable")
    for j in range(nodes.J):
        reached[j] = np.isin(order[j, : nodes.last[j] + 1], menu).any()
    # Chain (R8): a node is reached iff its parent is or one of its new columns is chosen.
    for j in range(nodes.J):
        new = nodes.new_cols[nodes.new_ptr[j]:nodes.new_ptr[j + 1]]
        via_chain = np.isin(new, menu).any() or (nodes.parent[j] >= 0 and reached[nodes.parent[j]])
        assert via_chain == reached[j]
    return nodes.constant + nodes.coef[reached].sum()


@pytest.mark.parametrize("family", FAMILIES)
def test_nodes_reproduce_menu_values(family):
    for seed in range(12):
        rng = np.random.default_rng(seed)
        n, m = int(rng.integers(1, 25)), int(rng.integers(2, 8))
        P = synthetic_profits(n, m, family, seed=seed)
        w = rng.random(n) + 0.1
        for K in range(1, m):
            whole = radius_nodes(P, w, K)
            blocks = radius_nodes(P, w, K, block_rows=4)      # exercises the merge of blocks
            assert whole.J == blocks.J and (whole.coef > 0).all()
            for menu in itertools.combinations(range(m), K):
                truth = w @ P[:, list(menu)].max(axis=1)
                for nodes in (whole, blocks):
                    assert node_value(nodes, P, np.array(menu)) == pytest.approx(truth, rel=1e-12, abs=1e-12)


def test_aggregation_collapses_smooth_rows():
    P = synthetic_profits(5000, 21, "smooth", seed=0)
    nodes = radius_nodes(P, np.ones(len(P)), 5)
    assert nodes.occurrences > 20 * nodes.J      # many (row, level) pairs share a set


def test_wide_matrices_use_several_key_words():
    # m > 64 needs two words per key; compare against explicit frozensets.
    P = synthetic_profits(50, 70, "uniform", seed=1)
    nodes = radius_nodes(P, np.ones(50), 60)
    order = np.argsort(-P, axis=1, kind="stable")
    sets = {frozenset(order[i, : last + 1]) for i, last in zip(nodes.row, nodes.last, strict=True)}
    assert len(sets) == nodes.J
