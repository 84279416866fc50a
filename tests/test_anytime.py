"""Time-limited runs return the best solution with a valid bound; they never raise."""

import time

import pytest

import coarse_mip as cm
import coarse_mip.engines.exact as exact
from coarse_mip.datasets import synthetic_profits
from coarse_mip.solver import HighsRun


def test_time_limit_returns_incumbent_and_valid_bound():
    P = synthetic_profits(150, 18, "uniform", seed=5)
    truth = cm.solve(P, 5, "enumerate")
    sol = cm.solve(P, 5, "exact", formulation="strong", time_limit=0.05)
    sol.check(P, 5)
    assert sol.status in ("feasible", "optimal")
    assert sol.objective <= truth.objective + 1e-9
    assert sol.bound >= truth.objective - 1e-9
    if sol.status == "feasible":
        assert sol.gap > 0 and sol.stats["termination"] == "time_limit"


def test_no_highs_incumbent_falls_back_to_greedy(monkeypatch):
    def no_solution(model, read, **kw):
        return HighsRun("time_limit", "Time limit reached", None, 1e9, None, {"termination": "time_limit"})

    monkeypatch.setattr(exact, "run_highs", no_solution)
    P = synthetic_profits(100, 10, "noisy", seed=1)
    sol = cm.solve(P, 3, "exact", formulation="radius", time_limit=1)
    greedy = cm.solve(P, 3, "greedy")
    assert sol.objective == pytest.approx(greedy.objective)
    assert sol.status == "feasible" and sol.stats["incumbent"] == "start"
    # The bound falls back to full personalization, never below the objective.
    assert sol.bound == pytest.approx(cm.Problem.from_data(P).full_value())


def test_mip_gap_is_recorded_and_respected():
    P = synthetic_profits(300, 12, "noisy", seed=4)
    sol = cm.solve(P, 4, "exact", formulation="radius", mip_gap=0.05)
    assert sol.stats["mip_gap"] == 0.05 and sol.stats["highs_options"]["mip_rel_gap"] == 0.05
    assert sol.status == "optimal" and sol.gap <= 0.05 + 1e-9


@pytest.mark.parametrize("time_limit", [0.01, 0.5])
def test_benders_time_limit_keeps_a_valid_bound(time_limit):
    P = synthetic_profits(3000, 40, "uniform", seed=2)
    sol = cm.solve(P, 4, "exact", formulation="benders", time_limit=time_limit)
    sol.check(P, 4)
    assert sol.status in ("feasible", "optimal") and sol.bound >= sol.objective
    lp = cm.solve(P, 4, "heuristic")
    assert sol.bound >= lp.objective - 1e-9 * abs(lp.objective)


def test_master_mip_time_out_is_not_called_optimal(orlib):
    # pmed36 is far from closed after 3 s; the master MIP stops with the incumbent (whose cuts
    # all hold) as its solution, and that alone must not be reported as optimal.
    D, p = cm.datasets.read_orlib_pmed(orlib / "pmed36.txt")
    sol = cm.solve(-D, p, "exact", finish="master-mip", time_limit=3)
    assert sol.status == "feasible" and -sol.bound < 9934 - 1
    assert sol.bound >= -9934


@pytest.mark.parametrize("time_limit", [1.0, 2.0])
def test_time_limit_holds_on_many_rows(time_limit):
    # No step (a cut round, the LP-point descent, the sampled search's polish) may start
    # when it would end far past the deadline; the slack covers a loaded CI machine.
    P = synthetic_profits(200_000, 101, "noisy", seed=0)
    t0 = time.perf_counter()
    sol = cm.solve(P, 10, "exact", time_limit=time_limit)
    elapsed = time.perf_counter() - t0
    assert elapsed <= time_limit + 1.0
    sol.check(P, 10)
    assert sol.status in ("feasible", "optimal")


def test_branch_and_bound_is_not_started_without_time_for_it(monkeypatch):
    # Too little time left for merging the rows again: the LP bound is returned, not a late finish.
    from coarse_mip.engines.spec import SolveContext

    P = synthetic_profits(2000, 30, "noisy", seed=1)
    opt = cm.solve(P, 4, "exact")
    assert opt.stats["finish"] == "branch" and opt.status == "optimal"
    monkeypatch.setattr(SolveContext, "remaining", lambda self: 0.0)
    sol = cm.solve(P, 4, "exact", time_limit=600)
    sol.check(P, 4)
    assert sol.stats["finish"] == "time limit before the branch finish" and "bb_nodes" not in sol.stats
    assert sol.status == "feasible" and sol.bound >= opt.objective and sol.bound == sol.stats["lp_bound"]
