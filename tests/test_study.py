"""The paper's study end to end on a tiny size, the demo command, and the Hillstrom example."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coarse_mip.cli import main
from coarse_mip.stage1 import email_profit, hillstrom_experiment, read_hillstrom
from coarse_mip.stage1.hillstrom import HILLSTROM_ARMS, HILLSTROM_FILE
from coarse_mip.study import POLICIES, format_study, plot_study, run_study

from .conftest import SHARED

REPO = Path(__file__).resolve().parents[1]
TOL = 1e-9
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def table():
    return run_study(400, n_test=300, K_max=3, seed=1, time_limit=20)


# --- the study ------------------------------------------------------------------------

def test_study_table_layout(table):
    assert list(table.columns) == ["K", "policy", "menu", "n_treatments", "est_share", "true_share", "true_value",
                                   "menu_share", "dr_value", "dr_lo", "dr_hi", "status", "gap", "seconds"]
    assert sorted(set(table["K"])) == [1, 2, 3]
    assert all(tuple(policies) == POLICIES for _, policies in table.groupby("K")["policy"])
    assert {"stage1", "full_true", "full_estimated", "n", "n_test"} <= set(table.attrs)
    assert table.attrs["n"] == 400 and table.attrs["n_test"] == 300


def test_study_shares_respect_their_denominators(table):
    # True full personalization (the oracle) bounds every held-out policy, and no policy's
    # estimate-based assignment beats the best offered treatment.
    assert (table["true_share"] <= 1 + TOL).all() and (table["menu_share"] <= 1 + TOL).all()
    assert (table["true_share"] <= table["menu_share"] + TOL).all()
    full = table[table["policy"] == "full"]
    assert np.allclose(full["est_share"], 1.0)
    np.testing.assert_allclose(full["menu_share"], 1.0)
    # In sample, the exact menu is optimal: nothing with K treatments beats it.
    for K, rows in table[table["policy"] != "full"].groupby("K"):
        exact = rows[rows["policy"] == "exact"].iloc[0]
        assert exact["status"] == "optimal" and exact["n_treatments"] <= K
        assert (rows["est_share"] <= exact["est_share"] + TOL).all(), K


def test_dr_only_for_menus_of_arms(table):
    arms = table[table["policy"] == "arms"]
    assert arms["dr_value"].notna().all()
    assert (arms["dr_lo"] <= arms["dr_value"]).all() and (arms["dr_value"] <= arms["dr_hi"]).all()
    off_arm = table["menu"].str.split().map(lambda m: any(int(d.rstrip("%")) % 5 for d in m))
    assert table.loc[off_arm, "dr_value"].isna().all()
    assert table.loc[~off_arm, "dr_value"].notna().all()


def test_format_and_plot(table, tmp_path):
    text = format_study(table)
    assert "TRUE full personalization" in text and "ESTIMATED full personalization" in text
    assert "Stage I" in text and "RMSE" in text
    png = plot_study(table, tmp_path / "sub" / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=10), "n must be an integer >= 50"),
    (dict(n_test=5), "n_test must be"),
    (dict(K_max=0), "K must be >= 1"),
    (dict(interpolation="cubic"), "interpolation must be"),
    (dict(coarse_step=0.07), "coarse_step=0.07 must divide"),
    (dict(coarse_step=0.015), "multiple of grid_step"),
    (dict(grid_step=0.03), "must divide the arms"),
])
def test_study_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_study(**({"n": 100} | kwargs))


def test_demo_command(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--n", "300", "--n-test", "200", "--K-max", "2", "--out-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Held-out true share" in printed and f"figure: {out / 'profit_vs_K.png'}" in printed
    assert (out / "profit_vs_K.png").is_file()
    assert set(pd.read_csv(out / "study.csv")["K"]) == {1, 2}
    assert main(["demo", "--n", "10", "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("coarse-mip: error: n must be")


def test_import_stays_light_and_evaluate_is_reachable():
    code = ("import sys, coarse_mip as cm; light = 'econml' not in sys.modules and 'sklearn' not in sys.modules; "
            "print(light, cm.evaluate.share_of_full([[0.0, 1.0]], [1]), callable(cm.study.run_study))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "1.0", "True"]


# --- Hillstrom ------------------------------------------------------------------------

def _hillstrom_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A synthetic frame with the Hillstrom columns and randomized arms."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(HILLSTROM_ARMS, size=n)
    mens = rng.integers(0, 2, n)
    buy = rng.random(n) < 0.05 + 0.05 * (segment == "Mens E-Mail") * mens
    return pd.DataFrame({
        "recency": rng.integers(1, 13, n), "history_segment": rng.choice(["1) $0 - $100", "2) $100 - $200"], n),
        "history": rng.uniform(30, 500, n).round(2), "mens": mens, "womens": rng.integers(0, 2, n),
        "zip_code": rng.choice(["Urban", "Surburban", "Rural"], n), "newbie": rng.integers(0, 2, n),
        "channel": rng.choice(["Phone", "Web", "Multichannel"], n), "segment": segment,
        "visit": buy.astype(int), "conversion": buy.astype(int), "spend": np.where(buy, rng.uniform(20, 300, n), 0.0)})


def test_hillstrom_experiment_and_profit(tmp_path):
    frame = _hillstrom_frame(50)
    exp = hillstrom_experiment(frame)
    assert exp.X.shape == (50, 8) and exp.arms == HILLSTROM_ARMS
    np.testing.assert_array_equal(exp.T, frame["segment"].map({a: k for k, a in enumerate(HILLSTROM_ARMS)}))
    assert isinstance(exp.X["zip_code"].dtype, pd.CategoricalDtype)
    np.testing.assert_allclose(exp.propensity, 1 / 3)
    realized = email_profit(exp.spend, exp.T != 0, margin=0.4, cost=0.1)
    np.testing.assert_allclose(realized, 0.4 * frame["spend"] - 0.1 * (frame["segment"] != "No E-Mail"))
    assert email_profit(np.ones((2, 3)), [0, 1, 1], margin=0.5, cost=0.2).tolist() == [[0.5, 0.3, 0.3]] * 2
    sub = exp.subset([3, 1])
    assert sub.n == 2 and sub.spend.tolist() == exp.spend[[3, 1]].tolist()
    # The reader takes the file or its folder.
    frame.to_csv(tmp_path / HILLSTROM_FILE, index=False)
    assert read_hillstrom(tmp_path).n == read_hillstrom(tmp_path / HILLSTROM_FILE).n == 50
    with pytest.raises(FileNotFoundError, match="not found"):
        read_hillstrom(tmp_path / "nope.csv")


@pytest.mark.parametrize("change, match", [
    (lambda f: f.drop(columns=["history"]), r"lacks columns \['history'\]"),
    (lambda f: f.assign(segment="Sms"), "unknown segment values"),
    (lambda f: f.assign(spend=-1.0), "spend must be finite and non-negative"),
    (lambda f: f.assign(channel=None), "missing values"),
])
def test_hillstrom_rejects_bad_frames(change, match):
    with pytest.raises(ValueError, match=match):
        hillstrom_experiment(change(_hillstrom_frame(20)))


@pytest.mark.parametrize("kwargs, match", [(dict(margin=0.0, cost=0.1), "margin"),
                                           (dict(margin=0.5, cost=-1.0), "cost")])
def test_email_profit_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        email_profit([1.0], [1], **kwargs)


def _example():
    spec = importlib.util.spec_from_file_location("hillstrom_example", REPO / "examples" / "hillstrom.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hillstrom_example_runs_on_a_synthetic_file(tmp_path, capsys):
    _hillstrom_frame(900, seed=2).to_csv(tmp_path / HILLSTROM_FILE, index=False)
    out = tmp_path / "table.csv"
    assert _example().main(["--data", str(tmp_path), "--out", str(out)]) == 0        # Stage I chosen by the data
    assert pd.read_csv(out)["policy"].tolist()[:3] == ["exact K=1", "exact K=2", "exact K=3"]
    assert "cross-fitted DR loss" in capsys.readouterr().out
    # The per-arm DRLearner estimates some e-mail profitable on this file, so full personalization is positive.
    assert _example().main(["--data", str(tmp_path), "--out", str(out), "--estimator", "dr"]) == 0
    table = pd.read_csv(out)
    assert table["policy"].tolist()[:3] == ["exact K=1", "exact K=2", "exact K=3"]
    assert (table["lift_lo"] <= table["lift"]).all() and (table["lift"] <= table["lift_hi"]).all()
    assert np.isclose(table.loc[table["policy"] == "exact K=3", "est_share"], 1.0).all()
    assert "95% CI" in capsys.readouterr().out
    assert _example().main(["--data", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data not found" in err


def test_real_hillstrom_file():
    path = SHARED / "data" / "hillstrom"
    if not (path / HILLSTROM_FILE).is_file():
        pytest.skip(f"Hillstrom data not found at {path}")
    exp = read_hillstrom(path)
    assert exp.n == 64_000 and np.bincount(exp.T).tolist() == [21_306, 21_307, 21_387]
    assert exp.spend.max() == pytest.approx(499.0)
