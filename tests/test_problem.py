"""Bad input raises ValueError naming the problem."""

import numpy as np
import pandas as pd
import pytest

import coarse_mip as cm


@pytest.mark.parametrize("profits, match", [
    ([[1.0, np.nan]], "NaN"),
    ([[1.0, np.inf]], "inf"),
    (np.zeros((0, 3)), "empty"),
    (np.zeros((3, 0)), "empty"),
    ([1.0, 2.0], "2-D"),
    (np.zeros((2, 2, 2)), "2-D"),
    ([["a", "b"]], "numeric"),
    (pd.DataFrame({"x": [1.0], "y": ["z"]}), "not numeric"),
])
def test_bad_profits(profits, match):
    with pytest.raises(ValueError, match=match):
        cm.solve(profits, 1)


@pytest.mark.parametrize("K, match", [(0, ">= 1"), (-2, ">= 1"), (1.5, "positive integer"),
                                      ("3", "positive integer"), (True, "positive integer")])
def test_bad_K(K, match):
    with pytest.raises(ValueError, match=match):
        cm.solve([[1.0, 2.0]], K)


@pytest.mark.parametrize("weights, match", [
    ([1.0], r"shape \(2,\)"),
    ([1.0, -1.0], "non-negative"),
    ([0.0, 0.0], "all zero"),
    ([1.0, np.nan], "weights contains"),
])
def test_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        cm.solve([[1.0, 2.0], [3.0, 4.0]], 1, weights=weights)


def test_bad_method_options_and_limits():
    P = [[1.0, 2.0]]
    with pytest.raises(ValueError, match="unknown method"):
        cm.solve(P, 1, "magic")
    with pytest.raises(ValueError, match="does not take option"):
        cm.solve(P, 1, "exact", formulaton="strong")
    with pytest.raises(ValueError, match="formulation must be"):
        cm.solve(P, 1, "exact", formulation="weak")
    with pytest.raises(ValueError, match="time_limit"):
        cm.solve(P, 1, time_limit=0)
    with pytest.raises(ValueError, match="mip_gap"):
        cm.solve(P, 1, mip_gap=-0.1)


def test_dataframe_labels_carried_through():
    df = pd.DataFrame({"control": [0.0, 0.0, 0.0], "10%": [5.0, -1.0, 1.0], "20%": [1.0, 4.0, 0.5]})
    sol = cm.solve(df, 2)
    assert sol.labels == ("10%", "20%") and sol.treatments == (1, 2)
    assert sol.objective == 10.0


def test_input_is_not_modified():
    P = np.array([[1.0, 2.0], [3.0, 0.0]])
    before = P.copy()
    cm.solve(P, 1, weights=np.array([1.0, 2.0]))
    assert np.array_equal(P, before)


def test_duplicate_labels_rejected():
    df = pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])
    with pytest.raises(ValueError, match="unique"):
        cm.solve(df, 1)
