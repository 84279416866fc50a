import dataclasses
import json

import numpy as np
import pytest

import coarse_mip as cm
from coarse_mip.problem import Problem
from coarse_mip.solution import certify

P = np.array([[3.0, 0.0, 1.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0], [1.0, 1.0, 1.0]])


def test_certificate_detects_tampering():
    sol = cm.solve(P, 2)
    sol.check(P, 2)
    bad_assign = dataclasses.replace(sol, assignment=np.array([1, 1, 2, 1]))
    with pytest.raises(ValueError, match="outside the chosen|best chosen"):
        bad_assign.check(P, 2)
    with pytest.raises(ValueError, match="objective"):
        dataclasses.replace(sol, objective=sol.objective + 1).check(P, 2)
    with pytest.raises(ValueError, match="bound"):
        dataclasses.replace(sol, bound=sol.objective - 1).check(P, 2)
    with pytest.raises(ValueError, match="K = 1"):
        sol.check(P, 1)


def test_certify_rejects_a_bound_below_the_objective():
    with pytest.raises(RuntimeError, match="below objective"):
        certify(Problem.from_data(P), 2, [0, 2], 1.0, method="test", runtime_s=0.0)


def test_unused_columns_are_not_reported_and_ties_go_low():
    Q = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    sol = certify(Problem.from_data(Q), 3, [0, 1, 2], 2.0, method="test", runtime_s=0.0)
    assert sol.treatments == (0,) and sol.assignment.tolist() == [0, 0]


def test_to_dict_is_json_and_repr_is_one_line():
    sol = cm.solve(P, 2)
    d = json.loads(json.dumps(sol.to_dict(assignment=True)))
    assert d["status"] == "optimal" and d["assignment"] == sol.assignment.tolist()
    assert "\n" not in repr(sol)


def test_solution_is_immutable():
    sol = cm.solve(P, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sol.objective = 0.0
    with pytest.raises(ValueError):
        sol.assignment[0] = 2


def test_profit_curve_is_monotone_and_reaches_full():
    from coarse_mip.datasets import synthetic_profits

    Q = synthetic_profits(300, 8, "smooth", seed=2)
    curve = cm.profit_curve(Q, range(1, 9))
    assert list(curve["K"]) == list(range(1, 9))
    assert (np.diff(curve["objective"]) >= -1e-9).all()
    assert curve["share"].iloc[-1] == pytest.approx(1.0)
    assert (curve["status"] == "optimal").all()
