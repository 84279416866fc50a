"""Stage I chosen by the data: pooled estimators, the cross-fitted DR criterion, honest menus."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import coarse_mip as cm
from coarse_mip.robust import center_scenarios
from coarse_mip.stage1 import simulate_promotions
from coarse_mip.stage1.assign import compare_assignments
from coarse_mip.stage1.dml import DoseDMLEstimator
from coarse_mip.stage1.dose import DoseResponseEstimator
from coarse_mip.stage1.select import (
    StackedEstimator,
    choose_interpolation,
    dr_scores,
    folds,
    interpolation_table,
    select_estimator,
    stack_weights,
)

pytestmark = pytest.mark.usefixtures("one_thread")


class ArmMeans(BaseEstimator):
    """Every individual predicted at the arm's mean outcome: no personalization at all."""

    def fit(self, X, T, y, sample_weight=None):
        self.means_ = np.array([y[T == k].mean() for k in range(T.max() + 1)])
        return self

    def predict(self, X):
        return np.tile(self.means_, (len(X), 1))


class Noisy(BaseEstimator):
    """A good estimator's predictions plus seeded noise: worse by construction."""

    def __init__(self, scale=5.0):
        self.scale = scale

    def fit(self, X, T, y, sample_weight=None, arms=None):
        self.inner_ = DoseResponseEstimator(monotone=None, two_part=True).fit(X, T, y, arms=arms)
        return self

    def predict(self, X):
        P = self.inner_.predict(X)
        return P + np.random.default_rng(len(X)).normal(scale=self.scale, size=P.shape)


@pytest.fixture(scope="module")
def exp():
    return simulate_promotions(6000, seed=3)


def _price(exp):
    def price(outcome, variant):
        return outcome * (exp.margin - exp.arms)[None, :]
    return price


def _true_error(exp, outcome):
    """Mean over customers of the summed squared error of incremental profit at the arms (the truth)."""
    P = _price(exp)(outcome, None)
    P = P - P[:, :1]
    return float(((P - exp.true_profit(exp.arms))[:, 1:] ** 2).sum(axis=1).mean())


def test_dr_scores_are_unbiased_for_arm_means(exp):
    G = dr_scores(exp.X, exp.T, exp.sales, len(exp.arms), folds(exp.n, 3, 0))
    truth = exp.expected_sales(exp.arms).mean(axis=0)
    se = G.std(axis=0) / np.sqrt(exp.n)
    assert np.all(np.abs(G.mean(axis=0) - truth) < 4 * se)


@pytest.mark.parametrize("bad", [ArmMeans(), Noisy()])
def test_criterion_ranks_estimators_as_the_truth_does(exp, bad):
    good = DoseResponseEstimator(monotone=None, two_part=True)
    sel = select_estimator({"good": good, "bad": bad}, exp.X, exp.T, exp.sales, price=_price(exp), cv=3,
                           random_state=0, stack=False, fit_params={"good": {"arms": exp.arms},
                                                       "bad": {"arms": exp.arms} if isinstance(bad, Noisy) else {}})
    truth = {k: _true_error(exp, sel.out_of_fold[k]) for k in ("good", "bad")}
    assert truth["good"] < truth["bad"]                 # the simulator says which is better ...
    assert sel.best == ("good", None)                  # ... and the data-only criterion agrees
    assert list(sel.table.index) == ["good", "bad"] and sel.table.loc["good", "dr_loss_se"] == 0
    assert sel.out_of_fold["good"].shape == (exp.n, len(exp.arms)) and sel.n == exp.n


def test_criterion_is_deterministic(exp):
    kw = dict(price=_price(exp), cv=2, random_state=5, fit_params={"d": {"arms": exp.arms}})
    a = select_estimator({"d": DoseResponseEstimator()}, exp.X, exp.T, exp.sales, **kw)
    b = select_estimator({"d": DoseResponseEstimator()}, exp.X, exp.T, exp.sales, **kw)
    same = ["dr_loss", "dr_loss_se", "policy_value"]
    assert a.table[same].equals(b.table[same]) and np.array_equal(a.scores, b.scores)


def test_two_part_and_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 3))
    T = rng.integers(3, size=3000)
    buy = rng.random(3000) < 0.2 + 0.2 * (T == 1) * (X[:, 0] > 0) + 0.1 * (T == 2)
    y = buy * np.exp(2 + 0.3 * X[:, 1])
    labels = np.array(["no", "a", "b"], dtype=object)
    est = DoseResponseEstimator(monotone=None, two_part=True).fit(X, T, y, arms=labels)
    mu = est.predict(X)
    assert mu.shape == (3000, 3) and (mu >= 0).all() and est.nonzero_model_ is not None
    lift = mu[:, 1] - mu[:, 0]
    assert lift[X[:, 0] > 0.5].mean() > lift[X[:, 0] < -0.5].mean() + 0.5   # the effect lives where x0 > 0
    with pytest.raises(ValueError, match="zero and non-zero"):
        DoseResponseEstimator(two_part=True).fit(X, T, y + 1.0, arms=[0.0, 1.0, 2.0])


def test_dml_recovers_a_quadratic_dose_response():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4000, 2))
    arms = np.array([0.0, 0.1, 0.2, 0.3])
    T = rng.integers(4, size=4000)
    d = arms[T]
    y = 1 + X[:, 0] + (3 + 2 * X[:, 1]) * d - 5 * d ** 2 + rng.normal(scale=0.5, size=4000)
    mu = DoseDMLEstimator(random_state=0).fit(X, T, y, arms=arms).predict(X)
    true_effect = (3 + 2 * X[:, 1])[:, None] * arms - 5 * arms ** 2
    assert np.abs((mu - mu[:, :1]) - true_effect).mean() < 0.05
    with pytest.raises(ValueError, match="numeric doses from the control"):
        DoseDMLEstimator().fit(X, T, y, arms=[0.1, 0.2, 0.3, 0.4])


def test_policy_auto_chooses_by_the_criterion_and_reports_optimism(exp):
    grid = np.arange(0, 31, 3) / 100
    pol = cm.CoarsePolicy(K=2, candidates=grid, random_state=0, progress=False)
    pol.fit(exp.X, exp.arms[exp.T], exp.sales)
    table = pol.selection_.table
    assert {"dr", "dose", "dml", "two_part", "logit"} <= set(table["estimator"]) <= {"dr", "dose", "dml", "two_part",
                                                                                    "logit", "stack"}
    weights = pol.selection_.weights
    if "stack" in set(table["estimator"]):
        assert len(weights) > 1 and sum(weights.values()) == pytest.approx(1) and min(weights.values()) > 0
    if pol.estimator_name_ == "stack":
        assert pol.stack_weights_ == weights and len(pol.estimator_.fitted_) == len(weights)
    best = table.iloc[0]
    assert pol.selection_.best == (best["estimator"], best["variant"])
    close = table[table["dr_loss"] - best["dr_loss"] <= table["dr_loss_se"]]     # one standard error
    assert pol.estimator_name_ == close.loc[close["policy_value"].idxmax(), "estimator"]
    # The interpolation: pchip unless another predicts the left-out arms better by over one standard error.
    loo = pol.interpolation_table_
    assert set(loo.index) == {"quadratic", "linear", "pchip"} and loo["loo_se"].iloc[0] == 0
    pchip_ok = loo.loc["pchip", "loo_loss"] - loo["loo_loss"].iloc[0] <= loo.loc["pchip", "loo_se"]
    assert pol.interpolation_ == ("pchip" if pchip_ok else loo.index[0])
    assert pol.profits_oof_.shape == pol.profits_.shape and np.isfinite(pol.optimism_)
    # Candidates at the arms only: no question about doses between them, the arm estimates as they are.
    at_arms = cm.CoarsePolicy(K=1, candidates=exp.arms, random_state=0, progress=False).estimate(
        exp.X, exp.arms[exp.T], exp.sales)
    assert at_arms.interpolation_ == "pchip" and at_arms.interpolation_table_ is None
    oof = cm.CoarsePolicy(K=2, candidates=grid, random_state=0, progress=False, menu_from="out_of_fold")
    oof.fit(exp.X, exp.arms[exp.T], exp.sales)
    best_oof = cm.solve(oof.profits_oof_, 2)
    assert oof.solution_.objective == pytest.approx(best_oof.objective)
    with pytest.raises(ValueError, match="menu_from='out_of_fold' needs"):
        cm.CoarsePolicy(K=2, estimator="dose", menu_from="out_of_fold", progress=False).fit(
            exp.X, exp.arms[exp.T], exp.sales)
    with pytest.raises(ValueError, match="menu_from must be"):
        cm.CoarsePolicy(menu_from="oof", progress=False).fit(exp.X, exp.arms[exp.T], exp.sales)


def test_calibration_matches_the_aipw_arm_means(exp):
    pol = cm.CoarsePolicy(K=1, estimator="auto", random_state=0, progress=False).estimate(exp.X, exp.arms[exp.T],
                                                                                        exp.sales)
    gap = pol.selection_.outcome_scores - pol.estimator_.predict(exp.X)
    d, se = gap.mean(axis=0), gap.std(axis=0) / np.sqrt(exp.n)
    assert np.allclose(pol.arm_shift_, d * np.maximum(0, 1 - se ** 2 / d ** 2))     # the gap, shrunk by its noise
    assert np.allclose(pol.predict_outcome(exp.X).mean(axis=0), pol.estimator_.predict(exp.X).mean(axis=0)
                       + pol.arm_shift_)
    assert np.all(np.abs(pol.arm_shift_) <= np.abs(d))
    plain = cm.CoarsePolicy(K=1, estimator="auto", calibrate=False, random_state=0, progress=False).estimate(
        exp.X, exp.arms[exp.T], exp.sales)
    assert not plain.arm_shift_.any() and np.allclose(plain.predict_outcome(exp.X), plain.estimator_.predict(exp.X))
    named = cm.CoarsePolicy(K=1, estimator="dose", progress=False).estimate(exp.X, exp.arms[exp.T], exp.sales)
    assert named.selection_ is None and named.profits_oof_ is None and not named.arm_shift_.any()


def test_stack_weights_recover_a_known_mixture():
    rng = np.random.default_rng(0)
    A, B, C = (rng.normal(size=(5000, 4)) for _ in range(3))
    for M in (A, B, C):
        M[:, 0] = 0.0
    scores = 0.3 * A + 0.7 * B + rng.normal(scale=0.5, size=A.shape)
    w = stack_weights({"a": A, "b": B, "c": C}, scores, np.ones(5000))
    assert set(w) <= {"a", "b", "c"} and sum(w.values()) == pytest.approx(1)
    assert w["a"] == pytest.approx(0.3, abs=0.03) and w["b"] == pytest.approx(0.7, abs=0.03) and w.get("c", 0) < 0.03


def test_stacked_estimator_is_the_weighted_sum(exp):
    members = [("d", DoseResponseEstimator(), {"arms": exp.arms}),
               ("t", DoseResponseEstimator(monotone=None, two_part=True), {"arms": exp.arms})]
    stack = StackedEstimator(members, [0.25, 0.75]).fit(exp.X, exp.T, exp.sales)
    d = DoseResponseEstimator().fit(exp.X, exp.T, exp.sales, arms=exp.arms).predict(exp.X[:50])
    t = DoseResponseEstimator(monotone=None, two_part=True).fit(exp.X, exp.T, exp.sales, arms=exp.arms)
    t = t.predict(exp.X[:50])
    np.testing.assert_allclose(stack.predict(exp.X[:50]), 0.25 * d + 0.75 * t)


def test_robust_menu_over_bootstrap_scenarios(exp):
    grid = np.arange(0, 31, 5) / 100
    pol = cm.CoarsePolicy(K=[1, 3], candidates=grid, estimator="two_part", scenarios=3, random_state=0, progress=False)
    pol.fit(exp.X, exp.arms[exp.T], exp.sales)
    st = pol.stability_
    assert set(st["frequency"]) == set(pol.candidates_) and 0 < st["jaccard"] <= 1
    assert all(0 <= f <= 1 for f in st["frequency"].values()) and st["shares"].shape == (3,)
    # The robust menu maximizes the mean over scenarios of their estimated profit: not below the plain menu's.
    assert pol.solution_.status == "optimal"
    assert st["shares"].mean() >= st["plain_shares"].mean() - 1e-3
    # Centred on the point estimate, the scenarios' column sums are the plain profits': same K = 1 menu.
    assert pol.solutions_[1].treatments == cm.solve(pol.profits_, 1).treatments
    again = cm.CoarsePolicy(K=[1, 3], candidates=grid, estimator="two_part", scenarios=3, random_state=0,
                            progress=False).fit(exp.X, exp.arms[exp.T], exp.sales)
    assert again.menu_ == pol.menu_ and np.array_equal(again.stability_["shares"], st["shares"])
    with pytest.raises(ValueError, match="do not combine with constraints"):
        cm.CoarsePolicy(scenarios=2, constraints=cm.Constraints(min_share=0.1), progress=False).fit(
            exp.X, exp.arms[exp.T], exp.sales)


def test_left_out_arm_criterion_prefers_the_interpolation_the_truth_prefers():
    # Smooth concave demand observed at 7 arms without noise: pchip predicts a left-out arm far
    # better than a quadratic fitted through the others; with heavy per-arm noise, averaging neighbours wins.
    rng = np.random.default_rng(0)
    arms = np.arange(7) * 0.05
    n = 4000
    a, b = rng.uniform(1, 3, n), rng.uniform(5, 15, n)
    demand = 10 / (1 + np.exp(-(a[:, None] + b[:, None] * arms[None, :] - 2)))   # logistic in the dose

    def price(outcome, variant):
        return outcome * (0.35 - arms)[None, :]

    G = price(demand, None) - price(demand, None)[:, :1]
    clean = interpolation_table(demand, arms, G, price, ["quadratic", "linear", "pchip"])
    assert clean.index[0] == "pchip" and choose_interpolation(clean) == "pchip"
    assert clean.loc["quadratic", "loo_loss"] > clean.loc["pchip", "loo_loss"] + 3 * clean.loc["quadratic", "loo_se"]
    noisy = demand + rng.normal(scale=3.0, size=demand.shape)       # per-arm noise, independent across arms
    table = interpolation_table(noisy, arms, G, price, ["quadratic", "linear", "pchip"])
    assert choose_interpolation(table) == table.index[0] != "pchip"
    with pytest.raises(ValueError, match="at least 4 arms"):
        interpolation_table(demand[:, :3], arms[:3], G[:, :3], price, ["quadratic"])


def test_scenarios_are_centred_on_the_point_estimate():
    rng = np.random.default_rng(0)
    point = rng.normal(size=(40, 6))
    scenarios = [point + 0.5 + rng.normal(size=point.shape) for _ in range(4)]
    centred = center_scenarios(scenarios, point)
    np.testing.assert_allclose(sum(centred) / 4, point, atol=1e-12)
    # Each keeps its deviation from the others.
    np.testing.assert_allclose(centred[1] - centred[0], scenarios[1] - scenarios[0], atol=1e-12)


def test_learned_assignment_wins_only_when_the_data_say_so():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(3000, 3))
    best = (Z[:, 0] > 0).astype(int) + (Z[:, 1] > 0.5)                 # the truly best of 3 offers
    rewards = np.eye(3)[best] * 2.0 + rng.normal(scale=0.5, size=(3000, 3))
    splits = folds(3000, 3, 0)
    noise = rng.normal(size=(3000, 3))                                   # a useless Stage I
    table = compare_assignments(Z, rewards, noise, splits)
    assert set(table.index) == {"plug_in", "classifier", "tree"}
    for rule in ("classifier", "tree"):
        assert table.loc[rule, "value"] > table.loc["plug_in", "value"] + 3 * table.loc[rule, "se_vs_plug_in"]
    good = np.eye(3)[best] + 0.1 * noise                                 # an accurate Stage I
    table = compare_assignments(Z, rewards, good, splits)
    assert table["value"].idxmax() == "plug_in" or table["value"].max() - table.loc["plug_in", "value"] < 0.05


def test_policy_assignment_rules(exp):
    grid = np.arange(0, 31, 5) / 100
    auto = cm.CoarsePolicy(K=3, candidates=grid, random_state=0, progress=False).fit(exp.X, exp.arms[exp.T], exp.sales)
    table = auto.assignment_table_
    gain = table["value"] - table.loc["plug_in", "value"]
    beats = (gain > table["se_vs_plug_in"]) & (table.index != "plug_in")
    assert auto.assignment_ == (table["value"][beats].idxmax() if beats.any() else "plug_in")
    tree = cm.CoarsePolicy(K=3, candidates=grid, assignment="tree", random_state=0, progress=False).fit(
        exp.X, exp.arms[exp.T], exp.sales)
    offered = tree.predict(exp.X[:500])
    assert tree.assignment_ == "tree" and set(np.unique(offered)) <= set(tree.menu_)
    plug_in = tree.predict_profit(exp.X[:500]).to_numpy()[:, tree._menu_cols].argmax(axis=1)
    assert not np.array_equal(offered, np.asarray(tree.menu_)[plug_in])      # a different rule, in use
    with pytest.raises(ValueError, match="needs estimator='auto'"):
        cm.CoarsePolicy(K=3, estimator="dose", assignment="tree", progress=False).fit(exp.X, exp.arms[exp.T],
                                                                                     exp.sales)
    with pytest.raises(ValueError, match="assignment must be"):
        cm.CoarsePolicy(assignment="magic", progress=False).fit(exp.X, exp.arms[exp.T], exp.sales)
