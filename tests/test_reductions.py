import numpy as np

from coarse_mip.problem import Problem
from coarse_mip.reductions import dominated_columns, identical_rows, reduce_problem


def brute_dominated(P):
    m = P.shape[1]
    out = np.zeros(m, dtype=bool)
    for t in range(m):
        for u in range(m):
            if u != t and (P[:, t] <= P[:, u]).all() and (u < t or (P[:, t] < P[:, u]).any()):
                out[t] = True
    return out


def test_dominance_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n, m = rng.integers(1, 12), rng.integers(1, 7)
        P = rng.integers(0, 3, size=(n, m)).astype(float)
        assert (dominated_columns(P) == brute_dominated(P)).all()


def test_dominance_screen_then_confirm_on_all_rows():
    # Column 1 dominates column 0 on the first 600 rows (the screen), not on the last.
    P = np.zeros((601, 2))
    P[:, 1] = 1.0
    P[-1] = [2.0, 0.0]
    assert not dominated_columns(P).any()


def test_dominance_on_many_columns_uses_the_peak_screen_exactly():
    # A distance matrix with duplicated points (only duplicates are dominated), then random-walk
    # columns with planted dominated ones, where 8 sampled rows leave more than 64 m pairs and the
    # peak screen runs. The result equals the pairwise definition, column against column.
    rng = np.random.default_rng(2)
    xy = rng.random((700, 2)) ** 3                       # crowded corner, sparse periphery
    xy[650:] = xy[:50]                                   # 50 duplicated points
    D = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    got = dominated_columns(-D)
    assert got.sum() == 50 and got[650:].all()
    P = rng.normal(size=(40, 900)).cumsum(axis=0)
    P[:, 800:] = P[:, :100] - rng.random((40, 100))      # columns 800.. dominated by 0..99
    expected = np.array([any((P[:, t] <= P[:, u]).all() and (u < t or (P[:, t] < P[:, u]).any())
                             for u in range(900) if u != t) for t in range(900)])
    assert expected[800:].all() and (dominated_columns(P) == expected).all()


def test_reduce_merges_rows_and_drops_zero_weights():
    P = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 0.0], [5.0, 5.0]])
    w = np.array([1.0, 2.0, 0.0, 1.5])
    red = reduce_problem(Problem.from_data(P, w))
    # Row 2 (weight 0) is dropped, so column 0 is dominated by column 1.
    assert red.columns.tolist() == [1]
    assert sorted(red.weights.tolist()) == [1.5, 3.0]


def test_identical_rows_groups_exactly_like_sorting():
    rng = np.random.default_rng(1)
    for _ in range(50):
        base = rng.integers(0, 3, size=(rng.integers(1, 8), rng.integers(1, 5))).astype(float)
        P = base[rng.integers(0, base.shape[0], size=rng.integers(1, 40))]
        first, inverse = identical_rows(P)
        assert (P[first[inverse]] == P).all()                      # every row equals its group's first
        assert np.unique(P, axis=0).shape[0] == first.size           # and groups are maximal
        assert (first == np.sort(first)).all() and (inverse[first] == np.arange(first.size)).all()


def test_identical_rows_looks_past_the_screened_columns():
    rng = np.random.default_rng(3)
    P = np.tile(rng.random((1, 40)), (12, 1))
    P[np.arange(12), rng.integers(0, 40, size=12)] += 1.0          # rows differ in one random column
    P = np.vstack([P, P[:5]])
    first, inverse = identical_rows(P)
    assert (P[first[inverse]] == P).all() and first.size == np.unique(P, axis=0).shape[0]
    D = rng.random((30, 40))                                        # distinct on the screen: no merge
    assert (identical_rows(D)[1] == np.arange(30)).all()


def test_identical_rows_survives_hash_collisions(monkeypatch):
    import coarse_mip.reductions as red
    monkeypatch.setattr(red, "_mix", lambda x: np.zeros_like(x))    # every row hashes alike
    P = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])
    first, inverse = red.identical_rows(P)
    assert (P[first[inverse]] == P).all() and first.size == 2


def test_large_inputs_still_merge_repeated_rows():
    rng = np.random.default_rng(2)
    base = rng.random((60_000, 3))
    P = np.vstack([base, base[:60_000]])                  # 120,000 rows, every row twice
    red = reduce_problem(Problem.from_data(P))
    assert red.profits.shape[0] == 60_000 and red.weights.sum() == 120_000
