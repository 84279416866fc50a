"""Evaluation: true and doubly robust policy values, and the baselines on tiny cases."""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from coarse_mip.evaluate import (
    Policy,
    best_on_grid,
    best_single,
    dr_policy_value,
    full_personalization,
    kmeans_on_covariates,
    kmeans_on_effects,
    share_of_full,
    true_policy_value,
)
from coarse_mip.stage1 import simulate_promotions

# --- policy values ---------------------------------------------------------------------


def test_true_value_and_share():
    P = np.array([[0.0, 3.0, 1.0], [0.0, -1.0, 2.0], [0.0, 1.0, 1.0]])
    assert true_policy_value(P, [1, 2, 0]) == pytest.approx(5 / 3)
    assert share_of_full(P, [1, 2, 0]) == pytest.approx(5 / 6)
    assert share_of_full(P, P.argmax(axis=1)) == 1.0
    assert np.isnan(share_of_full(np.zeros((2, 2)), [0, 1]))
    with pytest.raises(ValueError, match=r"assignment must have shape \(3,\)"):
        true_policy_value(P, [0, 1])
    with pytest.raises(ValueError, match=r"assignment must lie in 0..2"):
        true_policy_value(P, [0, 1, 3])
    with pytest.raises(ValueError, match="true_profit contains NaN"):
        true_policy_value(np.where(P > 2, np.nan, P), [0, 1, 0])


def test_dr_value_confidence_intervals_cover_the_truth():
    """AIPW with known propensities covers the population value, whatever the outcome model."""
    arms = np.array([0.0, 0.1, 0.2, 0.3])
    big = simulate_promotions(300_000, arms=arms, seed=999)

    def truth_levels(e):  # expected profit under every arm
        return e.expected_sales(arms) * (e.margin - arms)

    def policy(e):  # a fixed rule of the covariates: its own best arm
        return e.true_profit(arms).argmax(axis=1)

    target = truth_levels(big)[np.arange(big.n), policy(big)].mean()
    target_lift = target - truth_levels(big)[:, 0].mean()
    hits = {"true mu": 0, "zero mu": 0, "lift": 0}
    reps = 120
    for r in range(reps):
        e = simulate_promotions(1500, arms=arms, seed=r)
        mu, pi = truth_levels(e), policy(e)
        for name, mu_hat in (("true mu", mu), ("zero mu", np.zeros_like(mu))):
            _, _, (lo, hi) = dr_policy_value(e.profit, e.T, e.propensity, mu_hat, pi)
            hits[name] += lo <= target <= hi
        lift = dr_policy_value(e.profit, e.T, 1 / 4, mu, pi, reference=np.zeros(e.n, int))
        hits["lift"] += lift.ci[0] <= target_lift <= lift.ci[1]
    coverage = {k: v / reps for k, v in hits.items()}
    assert all(0.85 <= c <= 0.99 for c in coverage.values()), coverage


def test_dr_value_algebra():
    rng = np.random.default_rng(0)
    n = 50
    y, T = rng.normal(size=n), rng.integers(3, size=n)
    mu = rng.normal(size=(n, 3))
    pi = rng.integers(3, size=n)
    v = dr_policy_value(y, T, 1 / 3, mu, pi)
    manual = mu[np.arange(n), pi] + (T == pi) * 3 * (y - mu[np.arange(n), T])
    assert v.value == pytest.approx(manual.mean())
    assert v.std_err == pytest.approx(manual.std(ddof=1) / np.sqrt(n))
    assert v.ci[1] - v.value == pytest.approx(1.959964 * v.std_err, rel=1e-6)
    # Propensity given per individual or as a matrix gives the same answer.
    assert dr_policy_value(y, T, np.full((n, 3), 1 / 3), mu, pi).value == pytest.approx(v.value)
    ref = np.zeros(n, int)
    diff = dr_policy_value(y, T, 1 / 3, mu, pi, reference=ref)
    assert diff.value == pytest.approx(v.value - dr_policy_value(y, T, 1 / 3, mu, ref).value)
    assert dr_policy_value(y, T, 1 / 3, mu, pi, level=0.5).std_err == v.std_err


@pytest.mark.parametrize("kwargs, match", [
    (dict(outcome=[np.nan, 1.0, 2.0]), "outcome contains NaN"),
    (dict(T=[0, 1, 2]), r"T must lie in 0..1"),
    (dict(T=[0.0, 1.0, 0.0]), "integer"),
    (dict(propensity=0.0), r"propensity must lie in \(0, 1\]"),
    (dict(propensity=np.full(2, 0.5)), "propensity must be a scalar"),
    (dict(mu_hat=np.zeros((2, 2))), r"mu_hat must have shape \(3, n_arms\)"),
    (dict(policy=[0, 1]), r"policy must have shape \(3,\)"),
    (dict(level=1.0), "level"),
])
def test_dr_value_rejects_bad_input(kwargs, match):
    args = dict(outcome=[1.0, 2.0, 3.0], T=[0, 1, 0], propensity=0.5, mu_hat=np.zeros((3, 2)),
                policy=[1, 1, 1]) | kwargs
    with pytest.raises(ValueError, match=match):
        dr_policy_value(**args)


# --- baselines -------------------------------------------------------------------------


@pytest.fixture
def tiny():
    """Two well-separated groups of customers: group 0 prefers column 1, group 1 column 3."""
    rng = np.random.default_rng(1)
    group = np.repeat([0, 1], 20)
    X = pd.DataFrame({"age": rng.normal(0, 0.1, 40) + 5 * group, "spend": rng.normal(0, 0.1, 40),
                      "city": np.where(group == 1, "b", "a")})
    P = np.zeros((40, 5))
    P[:, 1] = np.where(group == 0, 3.0, 0.5)
    P[:, 2] = 2.0
    P[:, 3] = np.where(group == 1, 4.0, -1.0)
    P[:, 4] = rng.normal(0, 0.1, 40)
    return X, P + rng.normal(0, 0.01, P.shape), group


def test_kmeans_on_covariates(tiny):
    X, P, group = tiny
    pol = kmeans_on_covariates(X, P, 2, seed=0)
    assert pol.treatments == (1, 3)
    np.testing.assert_array_equal(pol.assignment, np.where(group == 0, 1, 3))
    assert pol.objective == pytest.approx(P[np.arange(40), pol.assignment].sum())
    np.testing.assert_array_equal(pol.assign(X=X.iloc[::-1]), pol.assignment[::-1])
    with pytest.raises(ValueError, match="pass X"):
        pol.assign(profits=P)
    one = kmeans_on_covariates(X, P, 1, seed=0)
    assert one.treatments == (2,)  # the best single column for everybody
    assert kmeans_on_covariates(X, P, 2, seed=0).assignment.tolist() == pol.assignment.tolist()


def test_kmeans_on_effects(tiny):
    _, P, group = tiny
    pol = kmeans_on_effects(pd.DataFrame(P), 2, seed=3)
    assert pol.treatments == (1, 3) and pol.segment_on == "profits"
    np.testing.assert_array_equal(pol.assign(profits=P), pol.assignment)
    assert kmeans_on_effects(P, 100, seed=0).treatments == (1, 3)  # at most n segments


def test_best_on_grid_matches_enumeration(tiny):
    _, P, _ = tiny
    columns = [0, 2, 4]
    for K in (1, 2, 3):
        pol = best_on_grid(P, K, columns)
        best = max((P[:, list(S)].max(axis=1).sum(), S) for S in combinations(columns, K))
        assert pol.objective == pytest.approx(best[0])
        assert set(pol.treatments) <= set(columns)
    assert best_on_grid(P, 2, range(5)).treatments == (1, 3)


def test_best_single_and_full(tiny):
    _, P, _ = tiny
    single = best_single(P)
    assert single.treatments == (int(P.sum(axis=0).argmax()),) == (2,)
    assert np.all(single.assignment == 2)
    full = full_personalization(P)
    np.testing.assert_array_equal(full.assignment, P.argmax(axis=1))
    assert full.objective == pytest.approx(P.max(axis=1).sum())
    assert share_of_full(P, single.assignment) < 1.0 == share_of_full(P, full.assignment)


def test_menu_policy_assigns_new_rows(tiny):
    _, P, _ = tiny
    pol = Policy.from_menu(P, [3, 1], name="exact")
    assert pol.treatments == (1, 3) and pol.name == "exact"
    new = np.array([[0.0, 1.0, 0.0, 2.0, 9.0], [0.0, 5.0, 0.0, 2.0, 9.0]])
    np.testing.assert_array_equal(pol.assign(profits=new), [3, 1])
    with pytest.raises(ValueError, match="uses column 3"):
        pol.assign(profits=new[:, :2])
    with pytest.raises(ValueError, match="estimated profits"):
        pol.assign()


@pytest.mark.parametrize("call, match", [
    (lambda P, X: kmeans_on_covariates(X, P, 0), "K must be >= 1"),
    (lambda P, X: kmeans_on_covariates(X.iloc[:5], P, 2), "X has 5 rows but profits has 40"),
    (lambda P, X: kmeans_on_effects(P, 2, n_init=0), "n_init"),
    (lambda P, X: best_on_grid(P, 2, [0, 7]), r"columns must lie in 0..4"),
    (lambda P, X: best_on_grid(P, 2, [1, 1]), "duplicates"),
    (lambda P, X: best_single(np.empty((0, 3))), "non-empty 2-D"),
    (lambda P, X: full_personalization(np.full((2, 2), np.inf)), "profits contains NaN or inf"),
])
def test_baselines_reject_bad_input(tiny, call, match):
    X, P, _ = tiny
    with pytest.raises(ValueError, match=match):
        call(P, X)
