"""Stage I: the simulator's truth, the EconML estimator on known effects, the profit grid."""

import numpy as np
import pandas as pd
import pytest
from scipy.interpolate import PchipInterpolator
from sklearn.base import clone

from coarse_mip.stage1 import ArmOutcomeEstimator, profit_matrix, simulate_promotions

GRID = np.arange(31) / 100
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def exp():
    return simulate_promotions(4000, seed=3)


# --- simulator -------------------------------------------------------------------------

def test_simulator_layout(exp):
    n = 4000
    assert exp.X.shape == (n, 13)
    assert sum(isinstance(exp.X[c].dtype, pd.CategoricalDtype) for c in exp.X.columns) == 3
    assert set(np.unique(exp.T)) == set(range(7))
    np.testing.assert_allclose(exp.propensity, 1 / 7)
    d = exp.arms[exp.T]
    assert set(np.unique(exp.purchase)) == {0.0, 1.0}
    assert np.all(exp.sales[exp.purchase == 0] == 0) and np.all(exp.sales[exp.purchase == 1] > 0)
    np.testing.assert_allclose(exp.spend, exp.sales * (1 - d))
    np.testing.assert_allclose(exp.profit, exp.sales * (exp.margin - d))
    with pytest.raises(ValueError):
        exp.T[0] = 1  # read-only: an Experiment cannot drift from its truth


def test_simulator_seeds_reproduce():
    a, b, c = (simulate_promotions(500, seed=s) for s in (7, 7, 8))
    pd.testing.assert_frame_equal(a.X, b.X)
    np.testing.assert_array_equal(a.profit, b.profit)
    assert not np.array_equal(a.T, c.T)


def test_true_profit_is_incremental_and_smooth(exp):
    P = exp.true_profit(GRID)
    assert P.shape == (exp.n, GRID.size)
    np.testing.assert_array_equal(P[:, 0], 0.0)
    # The price response is heterogeneous: best discounts spread over the grid.
    best = P.argmax(axis=1)
    assert (best == 0).mean() > 0.05 and np.unique(best).size > 15
    assert np.abs(np.diff(P, 2, axis=1)).max() < 0.05 * np.abs(P).max()


def test_expected_profit_matches_realized_means():
    exp = simulate_promotions(70_000, seed=11)
    level = exp.expected_sales(exp.arms) * (exp.margin - exp.arms)
    rows = np.arange(exp.n)
    for k in range(exp.arms.size):
        arm = exp.T == k
        realized = exp.profit[arm]
        z = (realized.mean() - level[rows[arm], k].mean()) / (realized.std() / np.sqrt(arm.sum()))
        assert abs(z) < 4, (k, z)
    incremental = exp.true_profit(exp.arms) + (exp.expected_sales([0.0]) * exp.margin)
    np.testing.assert_allclose(incremental, level)


def test_subset_keeps_population(exp):
    idx = np.arange(10, 20)
    sub = exp.subset(idx)
    assert sub.n == 10 and sub.X.index.tolist() == list(range(10))
    np.testing.assert_array_equal(sub.true_profit(GRID), exp.true_profit(GRID)[idx])
    mask = np.zeros(exp.n, bool)
    mask[idx] = True
    np.testing.assert_array_equal(exp.subset(mask).profit, sub.profit)
    with pytest.raises(ValueError, match="out of range"):
        exp.subset([exp.n])
    with pytest.raises(ValueError, match="boolean idx"):
        exp.subset(mask[:-1])


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n must"), (dict(n=10, n_numeric=3), "n_numeric"), (dict(n=10, margin=0.0), "margin"),
    (dict(n=10, arms=(0.1, 0.2)), "start at 0"), (dict(n=10, arms=(0.0, 0.2, 0.1)), "increasing"),
    (dict(n=10, arms=(0.0, 1.5)), r"\[0, 1\)"), (dict(n=10, arms=(0.0, np.nan)), "finite"),
])
def test_simulator_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_promotions(**kwargs)


def test_true_profit_rejects_bad_discounts(exp):
    with pytest.raises(ValueError, match="discounts"):
        exp.true_profit([0.0, np.nan])
    with pytest.raises(ValueError, match="discounts"):
        exp.true_profit([[0.0]])


# --- estimator -------------------------------------------------------------------------

def _known_effect(n, seed):
    """Four arms, outcome = baseline + tau_k(x) + noise, with a categorical modifier."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.standard_normal((n, 4)), columns=list("abcd"))
    X["colour"] = rng.choice(["red", "blue"], size=n)
    T = rng.integers(4, size=n)
    tau = np.arange(4)[None, :] * (1.0 + X["a"].to_numpy() + (X["colour"] == "blue").to_numpy())[:, None]
    mu = (3.0 + 2 * X["b"].to_numpy() + np.sin(X["c"].to_numpy()))[:, None] + tau
    y = mu[np.arange(n), T] + rng.standard_normal(n)
    return X, T, y, mu


def test_estimator_recovers_known_effects():
    X, T, y, mu = _known_effect(3000, seed=0)
    est = ArmOutcomeEstimator(random_state=0).fit(X, T, y)
    Xt, _, _, mut = _known_effect(1000, seed=1)
    pred = est.predict(Xt)
    assert pred.shape == (1000, 4) and est.n_arms_ == 4
    assert est.categorical_features_ == ["colour"]
    tau, tau_hat = mut[:, 1:] - mut[:, :1], est.effects(Xt)
    np.testing.assert_allclose(pred[:, 1:] - pred[:, :1], tau_hat)
    rmse = np.sqrt(np.mean((tau_hat - tau) ** 2))
    constant = np.sqrt(np.mean((tau - tau.mean(axis=0)) ** 2))
    assert rmse < 0.8 and rmse < 0.35 * constant, (rmse, constant)
    assert np.sqrt(np.mean((pred - mut) ** 2)) < 0.8


def test_estimator_beats_constant_on_simulator(exp):
    train, test = exp.subset(np.arange(3000)), exp.subset(np.arange(3000, 4000))
    est = ArmOutcomeEstimator(random_state=0).fit(train.X, train.T, train.sales)
    truth = test.true_profit(test.arms)[:, 1:]
    P = profit_matrix(est.predict(test.X), test.arms, test.arms, margin=test.margin).to_numpy()[:, 1:]
    rmse = np.sqrt(np.mean((P - truth) ** 2))
    constant = np.sqrt(np.mean((truth - truth.mean(axis=0)) ** 2))
    assert rmse < 0.95 * constant, (rmse, constant)


def test_estimator_is_deterministic_and_clonable():
    X, T, y, _ = _known_effect(800, seed=2)
    a = ArmOutcomeEstimator(random_state=5).fit(X, T, y)
    b = clone(a).fit(X, T, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert b.get_params()["random_state"] == 5


@pytest.mark.filterwarnings("ignore:Could not generate out-of-bag")
def test_causal_forest_learner_runs():
    X, T, y, _ = _known_effect(600, seed=4)
    est = ArmOutcomeEstimator(learner="causal_forest", n_estimators=8, cv=2, random_state=0)
    assert est.fit(X, T, y).predict(X).shape == (600, 4)


def test_estimator_rejects_bad_input():
    X, T, y, _ = _known_effect(300, seed=5)
    est = ArmOutcomeEstimator()
    with pytest.raises(ValueError, match="same number of rows"):
        est.fit(X, T[:-1], y)
    with pytest.raises(ValueError, match="y contains NaN"):
        est.fit(X, T, np.where(np.arange(300) == 0, np.nan, y))
    Xn = X.copy()
    Xn.loc[0, "a"] = np.nan
    with pytest.raises(ValueError, match=r"missing values in columns \['a'\]"):
        est.fit(Xn, T, y)
    with pytest.raises(ValueError, match="every arm"):
        est.fit(X, np.where(T == 2, 3, T), y)
    with pytest.raises(ValueError, match="integer arm"):
        est.fit(X, T.astype(float), y)
    with pytest.raises(ValueError, match="learner"):
        ArmOutcomeEstimator(learner="grf").fit(X, T, y)
    with pytest.raises(ValueError, match="multiple of 4"):
        ArmOutcomeEstimator(learner="causal_forest", n_estimators=10).fit(X, T, y)
    fitted = ArmOutcomeEstimator(cv=2).fit(X, T, y)
    with pytest.raises(ValueError, match=r"lacks columns.*colour"):
        fitted.predict(X.drop(columns="colour"))


# --- profit grid -----------------------------------------------------------------------

ARMS = np.array([0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30])


def _demand(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return 10 + np.cumsum(rng.gamma(1.0, 1.0, (n, ARMS.size)), axis=1) + rng.normal(0, 1, (n, ARMS.size))


@pytest.mark.parametrize("method", ["pchip", "linear"])
def test_profit_grid_reproduces_arms(method):
    S = _demand()
    P = profit_matrix(S, ARMS, GRID, margin=0.35, cost={d: 0.02 * (d > 0) for d in GRID}, method=method)
    assert P.shape == (50, 31) and P.columns[0] == "0%" and P.columns[12] == "12%"
    np.testing.assert_array_equal(P["0%"], 0.0)
    expected = S * (0.35 - ARMS) - 0.02 * (ARMS > 0)
    expected -= expected[:, :1]
    np.testing.assert_allclose(P.iloc[:, ::5].to_numpy(), expected, atol=1e-12)


def test_pchip_is_shape_preserving_and_vectorized():
    S = np.sort(_demand(), axis=1)  # monotone demand
    P = profit_matrix(S, ARMS, GRID, margin=0.35, incremental=False, labels="float")
    assert P.columns.tolist() == GRID.tolist()
    demand = P.to_numpy() / (0.35 - GRID)
    assert np.all(np.diff(demand, axis=1) >= -1e-9)
    for i in (0, 17, 49):
        np.testing.assert_allclose(demand[i], PchipInterpolator(ARMS, S[i])(GRID))
    # Linear demand is reproduced exactly by both methods.
    line = 5 + 40 * ARMS[None, :] * np.array([[1.0], [2.0]])
    for method in ("pchip", "linear"):
        lv = profit_matrix(line, ARMS, GRID, margin=0.35, method=method, incremental=False).to_numpy()
        np.testing.assert_allclose(lv, (5 + 40 * GRID * np.array([[1.0], [2.0]])) * (0.35 - GRID))


def test_quadratic_is_least_squares_demand():
    S = _demand()
    D = profit_matrix(S, ARMS, ARMS, margin=0.35, method="quadratic", incremental=False).to_numpy() / (0.35 - ARMS)
    V = np.vander(ARMS, 3)
    np.testing.assert_allclose((S - D) @ V, 0.0, atol=1e-9)  # residuals orthogonal to the quadratics
    coef = np.array([[30.0, 4.0, 9.0]])
    exact = profit_matrix(coef @ V.T, ARMS, GRID, margin=0.35, method="quadratic", incremental=False).to_numpy()
    np.testing.assert_allclose(exact, (coef @ np.vander(GRID, 3).T) * (0.35 - GRID))
    with pytest.raises(ValueError, match="at least 3 arms"):
        profit_matrix(S[:, :2], ARMS[:2], [0.0, 0.05], margin=0.35, method="quadratic")


def test_interpolated_truth_is_close_to_true_profit(exp):
    """Interpolating the true demand at the arms nearly recovers the true profit on the grid."""
    true_grid = exp.true_profit(GRID)
    rows, full = np.arange(exp.n), true_grid.max(axis=1).sum()
    share = {}
    # The quadratic smoother trades approximation bias for lower variance on estimates.
    tolerance = {"pchip": 0.02, "linear": 0.02, "quadratic": 0.15}
    for method in tolerance:
        P = profit_matrix(exp.expected_sales(exp.arms), exp.arms, GRID, margin=exp.margin, method=method).to_numpy()
        rmse = np.sqrt(np.mean((P - true_grid) ** 2))
        assert rmse < tolerance[method] * true_grid.std(), (method, rmse)
        share[method] = true_grid[rows, P.argmax(axis=1)].sum() / full
    assert share["pchip"] > 0.999 and share["pchip"] > share["linear"] > share["quadratic"] > 0.985, share


def test_profit_margins_per_customer_and_column():
    S = _demand(4)
    per_customer = np.array([[0.3], [0.35], [0.4], [0.45]])
    P = profit_matrix(S, ARMS, ARMS, margin=per_customer, incremental=False).to_numpy()
    np.testing.assert_allclose(P, S * (per_customer - ARMS))
    per_column = np.linspace(0.3, 0.4, 7)
    P = profit_matrix(S, ARMS, ARMS, margin=per_column, incremental=False).to_numpy()
    np.testing.assert_allclose(P, S * (per_column - ARMS))
    assert profit_matrix(S, ARMS, [0.0, 0.025], margin=0.3).columns.tolist() == ["0%", "2.5%"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(grid=[0.0, 0.4]), "exceed the last arm"),
    (dict(grid=[0.05, 0.1]), "start at 0"),
    (dict(grid=[0.0, 0.1, 0.1]), "strictly increasing"),
    (dict(arms=ARMS[1:]), "start at 0"),
    (dict(arms=ARMS[:-1]), r"shape \(n, 6\)"),
    (dict(margin={0.0: 0.3}), r"no value for grid discounts \[0.01"),
    (dict(margin=np.ones(3)), "one value per grid column"),
    (dict(margin=np.ones((2, 7))), "does not broadcast"),
    (dict(cost=np.nan), "cost contains NaN"),
    (dict(method="spline"), "method"),
    (dict(labels="pct"), "labels"),
])
def test_profit_matrix_rejects_bad_input(kwargs, match):
    args = dict(arm_outcomes=_demand(4), arms=ARMS, grid=GRID, margin=0.35) | kwargs
    with pytest.raises(ValueError, match=match):
        profit_matrix(args.pop("arm_outcomes"), args.pop("arms"), args.pop("grid"), **args)


def test_profit_matrix_rejects_nan_outcomes():
    S = _demand(3)
    S[1, 2] = np.nan
    with pytest.raises(ValueError, match="arm_outcomes contains NaN"):
        profit_matrix(S, ARMS, GRID, margin=0.35)
