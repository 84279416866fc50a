"""Side constraints: every engine against exhaustive oracles, shadow prices, and every cheap
conflict named before any solve (formulations/constrained.md)."""

import itertools

import numpy as np
import pytest

import coarse_mip as cm
from coarse_mip.datasets import synthetic_profits
from coarse_mip.solution import objective_of, violations

FAMILIES = ("uniform", "noisy", "ties", "negative", "smooth")
#: The kinds of constraints mixed into the seeded instances (seed % len(KINDS)).
KINDS = ("capacity", "min_load", "usage", "budget", "eligible", "require_forbid", "fixed_cost", "mixture")


def constrained_instance(seed: int, n_max: int = 25, m_max: int = 7):
    """(profits, weights, K, Constraints) of a small seeded instance of one constraint kind."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, n_max)), int(rng.integers(2, m_max))
    P = synthetic_profits(n, m, FAMILIES[seed % len(FAMILIES)], seed=seed)
    w = None if seed % 3 else rng.integers(1, 4, n).astype(float)
    weight = np.ones(n) if w is None else w
    K = int(rng.integers(1, m + 1))
    kind = KINDS[seed % len(KINDS)]
    kw = {}
    if kind in ("capacity", "mixture"):
        kw["max_share"] = float(rng.uniform(0.35, 0.9))
    if kind == "min_load":
        kw["min_load"] = float(rng.uniform(0.5, 0.3 * weight.sum()))
    if kind == "usage":
        kw["usage"] = rng.integers(1, 5, n).astype(float)
        kw["max_load"] = float(kw["usage"].sum() * rng.uniform(0.4, 0.8))
    if kind in ("budget", "mixture"):
        cost = rng.random((n, m))
        kw["cost"] = cost
        cheapest = weight @ cost.min(axis=1)
        kw["budget"] = float(cheapest + rng.uniform(0.1, 0.6) * (weight @ cost.max(axis=1) - cheapest))
    if kind == "eligible":
        e = rng.random((n, m)) < 0.75
        e[np.arange(n), rng.integers(0, m, n)] = True
        kw["eligible"] = e
    if kind == "require_forbid":
        cols = rng.permutation(m)
        kw["require"] = [int(cols[0])]
        if m > 2:
            kw["forbid"] = [int(cols[1])]
    if kind in ("fixed_cost", "mixture"):
        kw["fixed_cost"] = rng.random(m) * 0.5 * np.abs(P).mean() * weight.sum() / 3
        if kind == "fixed_cost" and seed % 2:
            K = None                   # as many as pay for themselves
    return P, w, K, cm.Constraints(**kw)


def brute_force(P, w, K, cons):
    """Best objective over every assignment of every individual (tiny instances only)."""
    problem = cm.Problem.from_data(P, w)
    side = cons.resolve(problem, K)
    best = -np.inf
    for a in itertools.product(range(problem.m), repeat=problem.n):
        a = np.asarray(a)
        menu = np.union1d(np.unique(a), np.flatnonzero(side.required))
        if menu.size > side.K or side.forbidden[menu].any():
            continue
        value = objective_of(problem, side, menu, a)
        if value > best and not violations(problem, side, menu, a, value):
            best = value
    return best


def feasible_instances(count, **kw):
    """Seeded constrained instances that pass the cheap checks (a conflict is a ValueError)."""
    seed = 0
    while count:
        P, w, K, cons = constrained_instance(seed, **kw)
        seed += 1
        try:
            cons.resolve(cm.Problem.from_data(P, w), K if K is None else K)
        except ValueError:
            continue
        count -= 1
        yield seed - 1, P, w, K, cons


def same(a, b):
    if not np.isfinite(a) or not np.isfinite(b):
        return a == b
    return a == pytest.approx(b, rel=1e-7, abs=1e-7)


def test_enumeration_equals_brute_force_on_tiny_instances():
    for seed, P, w, K, cons in feasible_instances(60, n_max=6, m_max=4):
        truth = brute_force(P, w, K, cons)
        sol = cm.solve(P, K, "enumerate", weights=w, constraints=cons)
        if np.isfinite(truth):
            assert sol.status == "optimal" and same(sol.objective, truth), seed
            sol.check(P, K, w, constraints=cons)
        else:
            assert sol.status == "infeasible" and sol.bound == -np.inf, seed


@pytest.mark.parametrize("part", range(4))
def test_exact_equals_the_oracle_and_heuristics_are_feasible(part):
    # 160 seeded instances (40 per part), every constraint kind and mixtures of them.
    for seed, P, w, K, cons in list(feasible_instances(160))[part::4]:
        truth = cm.solve(P, K, "enumerate", weights=w, constraints=cons)
        for formulation in ("auto", "strong"):
            sol = cm.solve(P, K, "exact", weights=w, constraints=cons, formulation=formulation)
            assert sol.status == truth.status, (seed, formulation)
            if truth.status == "optimal":
                sol.check(P, K, w, constraints=cons)
                assert same(sol.objective, truth.objective), (seed, formulation)
                assert same(sol.bound, truth.objective)
                for key in ("priced_bound", "lagrangian_bound", "column_bound"):   # every bound met is valid
                    if sol.stats.get(key) is not None:
                        assert sol.stats[key] >= truth.objective - 1e-6 * max(1.0, abs(truth.objective)), (seed, key)
        for method in ("heuristic", "lloyd"):
            sol = cm.solve(P, K, method, weights=w, constraints=cons, seed=seed)
            if truth.status == "infeasible":
                assert sol.status in ("infeasible", "no_solution"), (seed, method)
                continue
            assert sol.bound >= truth.objective - 1e-7 * max(1.0, abs(truth.objective)), (seed, method)
            if sol.status in ("optimal", "feasible"):
                sol.check(P, K, w, constraints=cons)
                assert sol.objective <= truth.objective + 1e-7 * max(1.0, abs(truth.objective)), (seed, method)


def test_penalty_fixings_only_close_children_that_cannot_win():
    # (L5): a column fixed by the penalty tests would, forced the other way, give a child whose
    # bound (L2) at the same multipliers, rounded down for integral data (L6), cannot beat the floor.
    from coarse_mip.bounds.knapsack import KnapsackBound
    from coarse_mip.kernels import MenuValues
    from coarse_mip.reductions import group_individuals
    from coarse_mip.search.constrained import _penalties

    rng = np.random.default_rng(5)
    checked = 0
    for seed in range(60):
        n, m, K = int(rng.integers(6, 20)), int(rng.integers(4, 9)), int(rng.integers(2, 4))
        integral = seed % 2 == 0
        P = -rng.integers(0, 30, (n, m)).astype(float) if integral else rng.normal(size=(n, m))
        usage = rng.integers(1, 5, n).astype(float)
        cons = cm.Constraints(max_load=float(np.ceil(usage.sum() / K * 1.3)), usage=usage)
        problem = cm.Problem.from_data(P)
        data = group_individuals(problem, cons.resolve(problem, K))
        bounder = KnapsackBound(data, MenuValues(data), offer_menus=False)
        inside, outside = np.zeros(m, bool), np.zeros(m, bool)
        cols = rng.permutation(m)
        inside[cols[: int(rng.integers(0, K))]] = True
        outside[cols[K: K + int(rng.integers(0, 2))]] = True
        pi = bounder.initial()[0] + rng.normal(0, 3, data.G)
        L, menu, worth, _ = bounder.evaluate(inside, outside, pi, 0.0)
        floor = L - rng.uniform(0.0, 6.0)
        new_in, new_out = _penalties(L, menu, worth, inside, outside, K - int(inside.sum()), floor, integral)
        # Fixed out: the child forcing it in cannot win; fixed in: the child forcing it out cannot.
        children = [(np.flatnonzero(new_out & ~outside), True), (np.flatnonzero(new_in & ~inside), False)]
        for fixed, forced_in in children:
            for t in fixed:
                child_in, child_out = inside.copy(), outside.copy()
                (child_in if forced_in else child_out)[t] = True
                child = bounder.evaluate(child_in, child_out, pi, 0.0)[0]
                assert (np.floor(child + 1e-6) if integral else child) <= floor + 1e-9, (seed, t)
                checked += 1
    assert checked > 20


def test_integral_capacitated_instances_match_the_oracle():
    # Integer profits and usages (as in OR-Library pmedcap): the tree rounds its bounds down (L6)
    # and fixes treatments by penalties (L5); both must keep the optimum.
    rng = np.random.default_rng(16)
    for seed in range(25):
        n, m = int(rng.integers(10, 15)), int(rng.integers(5, 8))
        P = -rng.integers(0, 30, size=(n, m)).astype(float)
        usage = rng.integers(1, 6, n).astype(float)
        K = int(rng.integers(2, 4))
        cap = float(np.ceil(usage.sum() / K * rng.uniform(1.05, 1.4)))
        cons = cm.Constraints(max_load=cap, usage=usage)
        truth = cm.solve(P, K, "enumerate", constraints=cons)
        sol = cm.solve(P, K, constraints=cons)
        assert sol.status == truth.status, seed
        if truth.status == "optimal":
            assert sol.objective == pytest.approx(truth.objective) and sol.bound == pytest.approx(truth.objective)


def test_the_oracle_instances_cover_every_kind():
    kinds = [KINDS[seed % len(KINDS)] for seed, *_ in feasible_instances(160)]
    assert {kind: kinds.count(kind) for kind in KINDS} == {kind: kinds.count(kind) for kind in KINDS}
    assert min(kinds.count(kind) for kind in KINDS) >= 10, {kind: kinds.count(kind) for kind in KINDS}


def test_required_treatment_serving_nobody_is_offered_and_fixed_costs_are_net():
    P = np.array([[0.0, 5.0, 1.0], [0.0, 4.0, 1.0]])
    cons = cm.Constraints(require=[2], fixed_cost=[0.0, 1.0, 0.5])
    sol = cm.solve(P, 2, constraints=cons)
    assert sol.treatments == (1, 2) and sol.assignment.tolist() == [1, 1]
    assert sol.objective == pytest.approx(9.0 - 1.0 - 0.5)
    with_k_none = cm.solve(P, None, constraints=cm.Constraints(fixed_cost=[0.0, 1.0, 0.5]))
    assert with_k_none.treatments == (1,) and with_k_none.objective == pytest.approx(8.0)


def test_identical_individuals_split_across_treatments():
    # Ten identical individuals, at most 6 on the better treatment: the merged group is split 6 / 4.
    P = np.tile([1.0, 3.0], (10, 1))
    sol = cm.solve(P, 2, constraints=cm.Constraints(max_load={1: 6}))
    assert sol.stats["rows_reduced"] == 1
    assert np.bincount(sol.assignment).tolist() == [4, 6] and sol.objective == pytest.approx(22.0)


def test_empty_constraints_take_the_unconstrained_path():
    P = synthetic_profits(200, 12, "noisy", seed=1)
    plain = cm.solve(P, 3)
    same_path = cm.solve(P, 3, constraints=cm.Constraints())
    assert plain.treatments == same_path.treatments and plain.objective == same_path.objective
    assert same_path.stats["formulation"] == "benders" and same_path.duals == {}


@pytest.mark.parametrize("seed", range(6))
def test_shadow_prices_are_the_transport_lp_derivatives(seed):
    from coarse_mip.kernels import transport
    from coarse_mip.reductions import group_individuals

    rng = np.random.default_rng(seed)
    n, m = 40, 5
    P = synthetic_profits(n, m, "uniform", seed=seed)
    cost = rng.random((n, m))
    cons = cm.Constraints(max_share=0.4, min_load={0: 6.0}, cost=cost, budget=float(cost.mean(axis=1).sum()))
    sol = cm.solve(P, 3, constraints=cons)
    assert sol.status == "optimal"
    problem = cm.Problem.from_data(P)
    menu = np.asarray(sol.treatments)

    def lp_value(side):
        data = group_individuals(problem, side)
        return transport(data, np.searchsorted(data.columns, menu), exact=False).lp_value

    side = cons.resolve(problem, 3)
    base = lp_value(side)
    step = 1e-3
    for key, attr in (("max_load", "hi"), ("min_load", "lo")):
        for label, price in sol.duals.get(key, {}).items():
            bumped = getattr(side, attr).copy()
            bumped[label] += step
            moved = lp_value(_replace(side, **{attr: bumped}))
            assert (moved - base) / step == pytest.approx(price, rel=1e-4, abs=1e-6), (key, label)
    moved = lp_value(_replace(side, budget=side.budget + step))
    assert (moved - base) / step == pytest.approx(sol.duals["budget"], rel=1e-4, abs=1e-6)


def _replace(side, **changes):
    import dataclasses

    return dataclasses.replace(side, **changes)


@pytest.mark.parametrize("constraints, K, match", [
    (dict(require=[0], forbid=[0]), 2, r"both required and forbidden"),
    (dict(require=[0, 1, 2]), 2, r"3 required treatments .* exceed K = 2"),
    (dict(eligible=np.array([[True, False, False], [False, False, False]])), 2,
     r"individual\(s\) \[1\] have no eligible treatment"),
    (dict(eligible=np.array([[True, True, False], [True, True, False]]), forbid=[0, 1]), 2,
     r"individual\(s\) \[0, 1\] have no eligible treatment"),
    (dict(max_load=0.5), 2, r"capacities cannot hold the total usage 2"),
    (dict(max_share={0: 0.2, 1: 0.2, 2: 0.2}), 3, r"capacities cannot hold"),
    (dict(min_load={0: 5.0}, require=[0]), 2, r"min load of required treatment 0 is 5 but its eligible"),
    (dict(min_load=1.5, require=[0, 1]), 2, r"min loads of the required treatments sum to 3"),
    (dict(min_load={0: 2.0}, max_load={0: 1.0}, require=[0]), 2, r"min load above max load"),
    (dict(cost=[1.0, 2.0, 3.0], budget=1.5), 2, r"budget 1.5 is below the cheapest eligible assignment"),
    (dict(budget=3.0), 2, r"budget needs cost"),
    (dict(max_load={"nope": 1.0}), 2, r"max_load: unknown treatment 'nope'"),
    (dict(require=["nope"]), 2, r"require: unknown treatment 'nope'"),
    (dict(max_load=-1.0), 2, r"max_load must be non-negative"),
    (dict(max_share=1.5), 2, r"max_share is a share"),
    (dict(usage=[1.0]), 2, r"usage must have shape \(2,\)"),
    (dict(usage=[1.0, -1.0]), 2, r"usage must be non-negative"),
    (dict(cost=[[1.0, np.nan, 1.0]] * 2, budget=1.0), 2, r"cost contains NaN or inf"),
    (dict(eligible=np.ones((3, 3), bool)), 2, r"eligible must have shape \(2, 3\)"),
    (dict(fixed_cost=[1.0, -1.0, 0.0]), 2, r"fixed_cost must be non-negative"),
    (dict(max_load=[1.0, 2.0]), 2, r"max_load must be a scalar, a dict by treatment or have shape \(3,\)"),
    (dict(), None, r"K=None needs constraints with a fixed_cost"),
    (dict(max_load=5.0), None, r"K=None .* needs fixed_cost"),
    (dict(require=[0], eligible=np.array([[True, True, True], [False, True, True]])), 1,
     r"K = 1 leaves room only for the required treatments"),
])
def test_cheap_conflicts_are_named_before_solving(constraints, K, match):
    P = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    with pytest.raises(ValueError, match=match):
        cm.solve(P, K, constraints=cm.Constraints(**constraints))


def test_what_only_a_solver_can_decide_comes_back_infeasible():
    # With one treatment (K = 1) the whole base costs 1.5 > 1.2 whichever it is: only the menu
    # search sees it (the cheapest assignment without K costs 1.0).
    P = np.array([[1.0, 2.0], [2.0, 1.0]])
    cost = np.array([[0.5, 1.0], [1.0, 0.5]])
    cons = cm.Constraints(cost=cost, budget=1.2)
    for method in ("exact", "enumerate"):
        sol = cm.solve(P, 1, method, constraints=cons)
        assert sol.status == "infeasible" and sol.treatments == () and np.isnan(sol.objective)
        assert "no menu admits" in sol.stats["reason"] and (sol.assignment == -1).all()
    assert cm.solve(P, 2, constraints=cons).status == "optimal"


def test_methods_without_constraints_say_so():
    with pytest.raises(ValueError, match="method 'greedy' does not take side constraints"):
        cm.solve([[1.0, 2.0]], 1, "greedy", constraints=cm.Constraints(max_load=1.0))
    with pytest.raises(ValueError, match="constraints must be a coarse_mip.Constraints"):
        cm.solve([[1.0, 2.0]], 1, constraints={"max_load": 1.0})


def test_time_limited_constrained_run_keeps_a_valid_bound():
    P = synthetic_profits(300, 20, "uniform", seed=3)
    cons = cm.Constraints(max_share=0.25, usage=np.random.default_rng(0).integers(1, 4, 300).astype(float))
    sol = cm.solve(P, 5, constraints=cons, time_limit=0.5)
    assert sol.status in ("feasible", "optimal", "no_solution")
    if sol.status != "no_solution":
        sol.check(P, 5, constraints=cons)
    assert sol.bound >= cm.solve(P, 5, "heuristic", constraints=cons).objective - 1e-9


def test_compiled_knapsack_equals_numpy():
    from coarse_mip.kernels.knapsack import dp_knapsacks

    rng = np.random.default_rng(4)
    for _ in range(40):
        G, c = int(rng.integers(1, 30)), int(rng.integers(1, 6))
        V = rng.normal(size=(G, c))
        V[rng.random((G, c)) < 0.2] = -np.inf                 # not eligible
        counts = rng.integers(1, 4, G).astype(float)
        usage = rng.integers(0, 5, G).astype(float)
        hi = rng.integers(0, 30, c).astype(float)
        lo = np.where(rng.random(c) < 0.4, rng.integers(0, 10, c), 0).astype(float)
        fast, fast_take = dp_knapsacks(V, counts, usage, lo, hi)
        slow, slow_take = dp_knapsacks(V, counts, usage, lo, hi, compiled=False)
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
        for take, best in ((fast_take, fast), (slow_take, slow)):
            ok = np.isfinite(best)
            assert (take <= counts[:, None] + 1e-9).all() and (take >= 0).all()
            load = usage @ take
            assert (load[ok] <= np.floor(hi[ok]) + 1e-9).all() and (load[ok] >= lo[ok] - 1e-9).all()
            value = np.where(take > 0, V, 0.0)
            np.testing.assert_allclose((value * take).sum(axis=0)[ok], best[ok], rtol=1e-9, atol=1e-9)


def test_cli_reads_constraints_by_label(tmp_path, capsys):
    import json

    import pandas as pd

    from coarse_mip.cli import main

    rng = np.random.default_rng(0)
    n = 30
    pd.DataFrame({"id": [f"c{i}" for i in range(n)], "demand": rng.integers(1, 4, n), "none": 0.0,
                  "low": rng.random(n), "mid": rng.random(n), "high": rng.random(n)}).to_csv(tmp_path / "p.csv",
                                                                                         index=False)
    spec = {"max_share": {"high": 0.2}, "usage": "demand", "require": ["none"],
            "cost": {"none": 0, "low": 1, "mid": 2, "high": 3}, "budget": 40}
    (tmp_path / "c.json").write_text(json.dumps(spec))
    code = main(["solve", str(tmp_path / "p.csv"), "-K", "3", "--id-column", "id", "--constraints",
                 str(tmp_path / "c.json"), "--json", str(tmp_path / "r.json")])
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "optimal" and "none" in report["labels"] and "budget" in report["duals"]
    assert "shadow price of the budget" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text(json.dumps({"max_lod": 3}))
    assert main(["solve", str(tmp_path / "p.csv"), "-K", "3", "--id-column", "id", "--weights", "demand",
                 "--constraints", str(tmp_path / "bad.json")]) == 2
    assert "unknown key(s) ['max_lod']" in capsys.readouterr().err
    (tmp_path / "clash.json").write_text(json.dumps({"require": ["low", "mid"], "forbid": ["mid"]}))
    assert main(["solve", str(tmp_path / "p.csv"), "-K", "3", "--id-column", "id", "--weights", "demand",
                 "--constraints", str(tmp_path / "clash.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "both required and forbidden" in err
