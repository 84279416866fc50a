"""The row-pass layer: every operation equals its one-line numpy definition, on every backend,
whatever the block size."""

import numpy as np
import pytest

from coarse_mip import rows
from coarse_mip.datasets import FAMILIES, synthetic_profits


def instances():
    rng = np.random.default_rng(11)
    for k, family in enumerate(FAMILIES * 3):
        n, m = int(rng.integers(1, 300)), int(rng.integers(2, 20))
        P = synthetic_profits(n, m, family, seed=k)
        w = rng.random(n) + 0.1
        menu = np.sort(rng.choice(m, size=int(rng.integers(1, m + 1)), replace=False))
        yield P, w, menu, rng


@pytest.mark.parametrize("budget", [rows.BLOCK_BYTES, 64])       # 64 bytes: a few rows per block
def test_passes_match_their_definitions(as_rows, monkeypatch, budget):
    monkeypatch.setattr(rows._ops, "block_rows", lambda bytes_per_row: rows.block_rows(bytes_per_row, budget))
    for P, w, menu, rng in instances():
        R = as_rows(P)
        np.testing.assert_array_equal(rows.best_on(R, menu), P[:, menu].max(axis=1))
        np.testing.assert_array_equal(rows.assign(R, menu), menu[np.argmax(P[:, menu], axis=1)])
        assert rows.menu_value(R, w, menu) == pytest.approx(w @ P[:, menu].max(axis=1), rel=1e-12)
        np.testing.assert_array_equal(rows.row_max(R), P.max(axis=1))
        np.testing.assert_allclose(rows.column_totals(R, w), w @ P, rtol=1e-12, atol=1e-12)
        level = P[:, menu].max(axis=1) - rng.random(P.shape[0])
        np.testing.assert_allclose(rows.excess(R, level, w), w @ np.maximum(P - level[:, None], 0),
                                   rtol=1e-12, atol=1e-12)
        G = int(rng.integers(1, 6))
        groups = rng.integers(0, G, size=P.shape[0])
        by_group = np.zeros((G, P.shape[1]))
        np.add.at(by_group, groups, w[:, None] * np.maximum(P - level[:, None], 0))
        np.testing.assert_allclose(rows.excess(R, level, rows.group_sums(R, w, groups, G)), by_group,
                                   rtol=1e-12, atol=1e-12)
        seg = rng.integers(0, 3, size=P.shape[0])
        totals = np.zeros((3, P.shape[1]))
        np.add.at(totals, seg, w[:, None] * P)
        np.testing.assert_allclose(rows.segment_totals(R, w, seg, 3), totals, rtol=1e-12, atol=1e-12)


def test_top_two_orders_each_row():
    rng = np.random.default_rng(2)
    sub = rng.integers(0, 4, size=(500, 5)).astype(float)        # many ties
    c1, b1, c2, b2 = rows.top_two(sub)
    order = np.sort(sub, axis=1)
    np.testing.assert_array_equal(b1, order[:, -1])
    np.testing.assert_array_equal(b2, order[:, -2])
    idx = np.arange(500)
    assert (c1 != c2).all() and (sub[idx, c1] == b1).all() and (sub[idx, c2] == b2).all()


def test_block_rule():
    assert rows.block_rows(8 * 101) == rows.BLOCK_BYTES // 808
    assert rows.block_rows(10**12) == 1
    assert [(s.start, s.stop) for s in rows.row_blocks(7, 3)] == [(0, 3), (3, 6), (6, 7)]
    with pytest.raises(TypeError, match="no row backend"):
        rows.backend([[1.0]])
