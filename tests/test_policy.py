"""CoarsePolicy: a scikit-learn estimator from experiment to menu, assignment and DR score."""

import io

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import coarse_mip as cm
from coarse_mip.stage1 import simulate_promotions

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def experiment():
    return simulate_promotions(4000, seed=0), simulate_promotions(4000, seed=1)


@pytest.fixture(scope="module")
def fitted(experiment, one_thread):
    train, _ = experiment
    return cm.CoarsePolicy(K=range(1, 4), candidates=np.arange(0, 31, 2) / 100, random_state=0,
                           progress=False).fit(train.X, train.arms[train.T], train.sales)


def test_sklearn_conventions(fitted):
    params = fitted.get_params()
    assert params["K"] == range(1, 4) and params["estimator"] == "auto"
    copy = clone(fitted)
    assert not hasattr(copy, "menu_") and np.array_equal(copy.get_params()["candidates"], params["candidates"])
    copy.set_params(K=2, method="heuristic")
    assert copy.K == 2 and copy.method == "heuristic"
    with pytest.raises(ValueError, match="estimator must be one of"):
        clone(fitted).set_params(estimator="magic").fit(np.zeros((10, 1)), np.zeros(10), np.zeros(10))


def test_fitted_attributes_and_curve(fitted):
    assert set(fitted.solutions_) == {1, 2, 3} and fitted.solution_ is fitted.solutions_[3]
    assert len(fitted.menu_) <= 3 and set(fitted.menu_) <= set(fitted.candidates_)
    assert fitted.profits_.shape == (4000, len(fitted.candidates_))
    assert list(fitted.curve_["K"]) == [1, 2, 3] and (np.diff(fitted.curve_["objective"]) >= -1e-9).all()
    assert fitted.arms_[0] == 0.0 and fitted.treatment_name_ is None
    fitted.select(2)
    assert len(fitted.menu_) <= 2
    fitted.select(3)
    with pytest.raises(ValueError, match="K=7 was not fitted"):
        fitted.select(7)


def test_predict_and_score(fitted, experiment):
    _, test = experiment
    offered = fitted.predict(test.X)
    assert offered.shape == (4000,) and set(np.unique(offered)) <= set(fitted.menu_)
    P = fitted.predict_profit(test.X)
    assert P.shape == (4000, len(fitted.candidates_)) and (P.iloc[:, 0] == 0).all()   # incremental over control
    score = fitted.score(test.X, test.arms[test.T], test.sales)
    assert score.n == 4000 and score.lift.ci[0] <= score.lift.value <= score.lift.ci[1]
    assert abs(sum(score.mix.values()) - 1) < 1e-9 and set(score.evaluated_as.values()) <= set(fitted.arms_)
    # The simulator knows the truth: the DR lift's interval should not be wildly off it.
    truth = test.true_profit(np.asarray(fitted.arms_))
    arm = np.searchsorted(fitted.arms_, [score.evaluated_as[v] for v in offered])
    true_lift = truth[np.arange(4000), arm].mean()
    assert score.lift.ci[0] - 3 * score.lift.std_err <= true_lift <= score.lift.ci[1] + 3 * score.lift.std_err


def test_refit_is_deterministic_and_joblib_round_trip(fitted, experiment):
    train, test = experiment
    again = clone(fitted).fit(train.X, train.arms[train.T], train.sales)
    assert again.menu_ == fitted.menu_ and np.array_equal(again.predict(test.X), fitted.predict(test.X))
    buf = io.BytesIO()
    joblib.dump(fitted, buf)
    buf.seek(0)
    loaded = joblib.load(buf)
    assert loaded.menu_ == fitted.menu_ and np.array_equal(loaded.predict(test.X), fitted.predict(test.X))


def test_a_file_from_another_version_is_refused(fitted, monkeypatch):
    import coarse_mip.policy as policy

    buf = io.BytesIO()
    monkeypatch.setattr(policy, "__version__", "0.1.9")
    joblib.dump(fitted, buf)
    monkeypatch.undo()
    buf.seek(0)
    with pytest.raises(ValueError, match=r"saved by coarse_mip 0\.1\.9; this is coarse_mip 0\.2"):
        joblib.load(buf)


def test_labelled_treatments_and_a_plot():
    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
    T = pd.Series(rng.choice(["none", "red", "blue"], n), name="arm")
    Y = pd.Series(rng.gamma(1.0, 1.0 + (T == "red") * (X["x"] > 0) + (T == "blue") * (X["x"] <= 0)), name="spend")
    with pytest.raises(ValueError, match="need control="):
        cm.CoarsePolicy(K=2, progress=False).fit(X, T, Y)
    pol = cm.CoarsePolicy(K=[1, 2], control="none", margin=0.5, treatment_cost={"red": 0.05, "blue": 0.05},
                          progress=False).fit(X, T, Y)
    assert pol.arms_ == ("none", "blue", "red") and pol.treatment_name_ == "arm" and pol.outcome_name_ == "spend"
    assert set(pol.predict(X)) <= set(pol.menu_)
    ax = pol.plot_curve()
    assert ax.get_xlabel().startswith("K") and len(ax.lines) >= 2
    with pytest.raises(ValueError, match="plot_curve needs a profit curve"):
        cm.CoarsePolicy(K=2, control="none", progress=False).fit(X, T, Y).plot_curve()
    with pytest.raises(ValueError, match="no individual on arm"):
        pol.score(X, T.replace("red", "green"), Y)


def test_many_rare_doses_with_the_pooled_model():
    rng = np.random.default_rng(0)
    n = 2000
    doses = np.round(rng.choice(np.r_[0.0, np.linspace(0.1, 2.0, 20)], n), 2)
    X = pd.DataFrame({"distance": rng.exponential(2.0, n), "age": rng.integers(18, 70, n)})
    p = 1 / (1 + np.exp(-(-0.5 + 1.5 * np.sqrt(doses) - 0.3 * X["distance"])))
    Y = (rng.random(n) < p).astype(float)
    pol = cm.CoarsePolicy(K=2, estimator="dose", margin=3.0, progress=False).fit(X, doses, Y)
    assert len(pol.arms_) == 21 and len(pol.menu_) <= 2
    P = pol.predict_profit(X)
    assert np.isfinite(P.to_numpy()).all()
    with pytest.raises(ValueError, match="needs numeric doses"):
        cm.CoarsePolicy(K=2, estimator="dose", control="a", progress=False).fit(X, np.where(doses > 0, "a", "b"), Y)


def test_predict_partition_by_partition_on_dask(fitted, experiment):
    dd = pytest.importorskip("dask.dataframe")
    _, test = experiment
    X = pd.DataFrame(test.X) if not isinstance(test.X, pd.DataFrame) else test.X
    lazy = dd.from_pandas(X, npartitions=3)
    offered = fitted.predict(lazy)
    assert hasattr(offered, "compute")                          # lazy until asked
    np.testing.assert_array_equal(offered.compute().to_numpy(), fitted.predict(X))
    np.testing.assert_allclose(fitted.predict_profit(lazy).compute().to_numpy(), fitted.predict_profit(X).to_numpy())
