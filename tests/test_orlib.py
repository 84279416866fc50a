"""Published OR-Library optima (shared/benchmarks/orlib-pmed), last-edge-wins distances."""

import pandas as pd
import pytest

import coarse_mip as cm
from coarse_mip.datasets import read_orlib_pmed


def optimum(orlib, name):
    table = pd.read_csv(orlib / "optima.csv").set_index("instance")
    return int(table.loc[name, "optimum"])


def test_last_edge_wins(orlib):
    D, p = read_orlib_pmed(orlib / "pmed1.txt")
    assert D.shape == (100, 100) and p == 5
    assert (D == D.T).all() and (D.diagonal() == 0).all()


@pytest.mark.parametrize("name", ["pmed1", "pmed5"])
def test_small_pmed_optimum(orlib, name):
    D, p = read_orlib_pmed(orlib / f"{name}.txt")
    sol = cm.solve(-D, p, "exact")
    assert sol.status == "optimal"
    assert -sol.objective == optimum(orlib, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [f"pmed{k}" for k in range(1, 11)])
def test_pmed_1_to_10(orlib, name):
    D, p = read_orlib_pmed(orlib / f"{name}.txt")
    sol = cm.solve(-D, p, "exact", time_limit=600)
    assert sol.status == "optimal" and -sol.objective == optimum(orlib, name)
