"""The persistent HiGHS session: time limits hold per run, whatever the session ran before."""

import time

import numpy as np
import scipy.sparse as sp

from coarse_mip.solver.highs import HighsSession, LinearProgram


def _lp(n: int = 400) -> LinearProgram:
    """max c x, A x <= 5, 0 <= x <= 1 with a random sparse A (n, n): about 0.05 s cold."""
    rng = np.random.default_rng(0)
    A = sp.random(n, n, density=0.3, random_state=0, format="csc")
    return LinearProgram(c=rng.random(n), A=A, row_lower=np.full(n, -np.inf), row_upper=np.full(n, 5.0),
                         col_lower=np.zeros(n), col_upper=np.ones(n))


def test_lp_time_limit_is_per_run_not_per_session():
    # HiGHS checks an LP's limit against the session's summed run time: runs that together
    # exceed the limit must still each get it (the node LPs of B16 all stopped at once before).
    session = HighsSession(_lp())
    t0 = time.perf_counter()
    session.configure(time_limit=0.5)
    runs = 0
    while session.h.getRunTime() < 1.5 and time.perf_counter() - t0 < 20:
        session.forget_basis()
        assert session.run().termination == "optimal"
        runs += 1
    assert session.h.getRunTime() >= 1.5, runs


def test_a_time_limit_still_stops_a_run():
    session = HighsSession(_lp(1500))
    session.configure(time_limit=0.0)
    assert session.run().termination == "time_limit"


def test_a_mip_stops_at_its_time_limit_with_a_valid_bound():
    # A market split instance (Cornuejols & Dawande): equality knapsacks no solver closes fast.
    # The MIP returns within its limit plus a second, as a time-out, whichever check fires first.
    rng = np.random.default_rng(3)
    A = rng.integers(0, 100, size=(5, 40)).astype(float)
    rhs = np.floor(A.sum(axis=1) / 2)
    session = HighsSession(LinearProgram(c=rng.random(40), A=sp.csr_matrix(A), row_lower=rhs, row_upper=rhs,
                                         col_lower=np.zeros(40), col_upper=np.ones(40), integer=np.ones(40, bool)))
    for limit in (0.5, 1.5):
        session.configure(time_limit=limit)
        t0 = time.perf_counter()
        result = session.run()
        assert time.perf_counter() - t0 < limit + 1.0
        assert result.termination == "time_limit" and result.bound >= (result.objective or -np.inf)
