"""Lagrangian branch and bound: exact against enumeration; a time-out keeps a valid bound."""

import time

import numpy as np
import pytest

from coarse_mip.datasets import FAMILIES, synthetic_profits
from coarse_mip.exact.branch import branch_and_bound
from coarse_mip.heuristics.enumerate import enumerate_menus

from .conftest import weighted_instances


@pytest.mark.parametrize("family", FAMILIES)
def test_branch_and_bound_matches_enumeration(family):
    for P, w, K, opt in weighted_instances(family, 40, seed=1):
        # A poor start (the first K columns) and crude multipliers: the search must do the work.
        menu, value, bound, figures = branch_and_bound(P, w, K, np.arange(K), P[:, :K].max(axis=1))
        assert figures["bb_complete"] and menu.size <= K
        assert value == pytest.approx(opt, rel=1e-9, abs=1e-9)
        assert value == pytest.approx(w @ P[:, menu].max(axis=1), rel=1e-12, abs=1e-12)
        assert bound == value


def test_time_out_returns_incumbent_and_valid_bound():
    P = synthetic_profits(400, 30, "uniform", seed=3)
    w = np.ones(400)
    _, opt = enumerate_menus(P, w, 3)
    menu, value, bound, figures = branch_and_bound(P, w, 3, np.arange(3), P[:, :3].max(axis=1),
                                                   deadline=time.perf_counter())
    assert not figures["bb_complete"]
    assert value <= opt + 1e-9 and bound >= opt - 1e-9

