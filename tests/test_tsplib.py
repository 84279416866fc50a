"""TSPLIB rl1304 p-median (shared/benchmarks/tsplib-pmedian), floor-Euclidean distances:
every p of reference_values.csv proven optimal at its published value (make test-slow)."""

import pandas as pd
import pytest

import coarse_mip as cm
from coarse_mip.datasets import floor_euclid, read_tsplib

P_VALUES = [5, 10, 20, 50, 100, 200, 300, 400, 500]


@pytest.fixture(scope="module")
def rl1304(tsplib):
    table = pd.read_csv(tsplib / "reference_values.csv")
    values = table[table.instance == "rl1304"].set_index("p")["value"]
    return floor_euclid(read_tsplib(tsplib / "rl1304.tsp")), values


@pytest.mark.slow
@pytest.mark.parametrize("p", P_VALUES)
def test_rl1304(rl1304, p):
    D, values = rl1304
    sol = cm.solve(-D, p, "exact", time_limit=900)
    assert sol.status == "optimal" and -sol.objective == values[p]
