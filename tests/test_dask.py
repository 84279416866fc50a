"""Profit rows beyond memory: the Dask path on a 2-worker LocalCluster gives what the in-memory
path gives (menu, objective, bound, status), on each of its three routes, and survives a lost
worker."""

import os
import signal
import threading
import time
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import coarse_mip as cm
from coarse_mip.datasets import synthetic_profits
from coarse_mip.engines import out_of_core

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as c:
        yield c


def same(a, b):
    assert a.treatments == b.treatments
    assert a.objective == pytest.approx(b.objective, rel=1e-12, abs=1e-9)
    assert a.bound == pytest.approx(b.bound, rel=1e-9, abs=1e-9)
    assert a.status == b.status


@pytest.mark.parametrize("family", ["smooth", "ties", "uniform", "negative"])
def test_gathered_rows_match_in_memory(client, family):
    rng = np.random.default_rng(1)
    for k, method in enumerate(["heuristic", "lloyd", "exact"]):
        P = synthetic_profits(1_500, 9, family, seed=k)
        w = rng.integers(0, 3, size=P.shape[0]) + rng.random(P.shape[0])
        K = 1 + k * 2
        lazy = cm.solve(da.from_array(P, chunks=(400, 9)), K, method, weights=w)
        assert isinstance(lazy.assignment, da.Array)
        assert lazy.stats["out_of_core"] == "all rows in memory"
        mem = cm.solve(P, K, method, weights=w)
        same(lazy, mem)
        np.testing.assert_array_equal(lazy.assignment.compute(), mem.assignment)


def test_sampled_rows_polished_and_certified_by_passes(client, monkeypatch):
    monkeypatch.setattr(out_of_core, "GATHER_BYTES", 0)
    monkeypatch.setattr(out_of_core, "SAMPLE_ROWS", 2_000)
    P = synthetic_profits(30_000, 21, "smooth", seed=4)
    w = np.random.default_rng(4).random(P.shape[0]) + 0.5
    D = da.from_array(P, chunks=(7_000, 21))              # chunks cut the row blocks: sums still agree
    for method in ("heuristic", "exact"):
        lazy, mem = cm.solve(D, 4, method, weights=w), cm.solve(P, 4, method, weights=w)
        assert lazy.stats["out_of_core"].startswith("sample searched")
        same(lazy, mem)
        assert mem.status == "optimal"
        np.testing.assert_array_equal(lazy.assignment.compute(), mem.assignment)
    lloyd = cm.solve(D, 4, "lloyd", weights=w)            # the sample's Lloyd menu, as it is
    assert lloyd.bound >= cm.solve(P, 4, "exact", weights=w).objective - 1e-6
    assert lloyd.objective <= lloyd.bound


def test_merged_rows(client, monkeypatch):
    P = synthetic_profits(120_000, 4, "ties", seed=5)     # 256 distinct rows at most
    monkeypatch.setattr(out_of_core, "GATHER_BYTES", 8 * P.size - 1)
    for method in ("heuristic", "exact"):
        lazy = cm.solve(da.from_array(P, chunks=(50_000, 4)), 2, method)
        assert lazy.stats["out_of_core"] == "distinct rows in memory"
        same(lazy, cm.solve(P, 2, method))


def test_dataframe_parquet_and_weight_column(client, tmp_path):
    P = synthetic_profits(2_000, 6, "smooth", seed=6)
    frame = pd.DataFrame(P, columns=[f"d{t}" for t in range(6)]).assign(w=np.arange(2_000) % 3 + 1.0)
    mem = cm.solve(frame.drop(columns="w"), 3, "exact", weights=frame["w"].to_numpy())
    ddf = dd.from_pandas(frame, npartitions=3)
    lazy = cm.solve(ddf, 3, "exact", weights="w")
    same(lazy, mem)
    assert lazy.labels == mem.labels
    ddf.to_parquet(tmp_path / "rows")
    same(cm.solve(tmp_path / "rows", 3, "exact", weights="w"), mem)
    curve = cm.profit_curve(ddf.drop(columns="w"), Ks=[1, 2], progress=False)
    assert list(curve.status) == ["optimal", "optimal"]


def test_bad_input(client, monkeypatch):
    P = synthetic_profits(500, 5, "smooth", seed=7)
    P[3, 2] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        cm.solve(da.from_array(P, chunks=(100, 5)), 2)
    ddf = dd.from_pandas(pd.DataFrame(np.ones((10, 3)), columns=list("abc")), npartitions=2)
    with pytest.raises(ValueError, match="no column 'w'"):
        cm.solve(ddf, 2, weights="w")
    with pytest.raises(ValueError, match="no Parquet dataset"):
        cm.solve("/nonexistent/rows.parquet", 2)
    monkeypatch.setattr(out_of_core, "GATHER_BYTES", 0)
    with pytest.raises(ValueError, match="side constraints need the profit rows in memory"):
        cm.solve(da.from_array(np.ones((10, 3)), chunks=(5, 3)), 2, constraints=cm.Constraints(max_share=0.6))


def test_lost_worker_is_retried(client, monkeypatch):
    monkeypatch.setattr(out_of_core, "GATHER_BYTES", 0)
    monkeypatch.setattr(out_of_core, "SAMPLE_ROWS", 5_000)
    P = synthetic_profits(100_000, 31, "noisy", seed=8)
    D = da.from_array(P, chunks=(10_000, 31))
    before = set(client.scheduler_info()["workers"])
    nanny = next(iter(client.cluster.workers.values()))
    done, killed = threading.Event(), []

    def kill():
        time.sleep(1.0)
        if not done.is_set():
            os.kill(nanny.process.pid, signal.SIGKILL)     # the worker process, not its nanny
            killed.append(True)

    threading.Thread(target=kill, daemon=True).start()
    t0 = time.perf_counter()
    lazy = cm.solve(D, 5, "heuristic")
    done.set()
    assert killed, f"the solve ended in {time.perf_counter() - t0:.1f} s, before the worker was killed"
    optimum = cm.solve(P, 5, "exact").objective
    assert lazy.objective <= lazy.bound + 1e-9 and lazy.bound >= optimum - 1e-9 * abs(optimum)
    assert lazy.objective == pytest.approx(cm.solve(P, 5, "heuristic").objective, rel=1e-3)
    client.wait_for_workers(2, timeout=60)                 # the nanny restarts it
    assert set(client.scheduler_info()["workers"]) != before


def test_cli_on_a_local_cluster(tmp_path):
    from coarse_mip.cli import main

    P = synthetic_profits(3_000, 5, "smooth", seed=9)
    frame = pd.DataFrame(P, columns=[f"d{t}" for t in range(5)]).assign(cid=np.arange(3_000) + 7, w=2.0)
    (tmp_path / "rows").mkdir()
    frame.iloc[:1_000].to_parquet(tmp_path / "rows" / "a.parquet", index=False)
    frame.iloc[1_000:].to_parquet(tmp_path / "rows" / "b.parquet", index=False)
    out = tmp_path / "assigned"
    assert main(["--workers", "1", "solve", str(tmp_path / "rows"), "-K", "2", "--weights", "w",
                 "--id-column", "cid", "--assignments", str(out)]) == 0
    got = pd.read_parquet(out).sort_values("cid")
    sol = cm.solve(P, 2, weights=np.full(3_000, 2.0))
    np.testing.assert_array_equal(got.cid, frame.cid)
    np.testing.assert_array_equal(got.treatment.astype(str), np.array(frame.columns[:5])[sol.assignment])
    assert main(["--workers", "1", "demo"]) == 2
    assert main(["--workers", "1", "solve", str(tmp_path / "missing"), "-K", "2"]) == 2


def test_progress_bars_go_to_stderr(client, monkeypatch, capsys):
    monkeypatch.setenv("COARSE_MIP_PROGRESS", "1")
    monkeypatch.setattr(out_of_core, "GATHER_BYTES", 0)
    monkeypatch.setattr(out_of_core, "SAMPLE_ROWS", 500)
    P = synthetic_profits(4_000, 6, "smooth", seed=2)
    sol = cm.solve(da.from_array(P, chunks=(1_000, 6)), 2, "heuristic")
    out, err = capsys.readouterr()
    assert out == "" and "100% Completed" in err                      # distributed's text bar, per pass
    assert sol.objective == pytest.approx(cm.solve(P, 2, "heuristic").objective)
    # No Client (the local threaded scheduler): dask.diagnostics' bar instead.
    with dask.config.set(scheduler="threads"), \
            mock.patch("distributed.get_client", side_effect=ValueError("No global client found")):
        cm.solve(da.from_array(P, chunks=(1_000, 6)), 2, "heuristic")
    out, err = capsys.readouterr()
    assert out == "" and "Completed" in err
