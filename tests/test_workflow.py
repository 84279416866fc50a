"""The command-line workflow: experiment file -> estimate -> curve -> solve -> fit -> assign ->
evaluate, run as the real console script on Hillstrom and Thornton; every user error exits 2
with one line."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coarse_mip.cli import main

from .conftest import SHARED

HILLSTROM = (SHARED / "data" / "hillstrom"
             / "Kevin_Hillstrom_MineThatData_E-MailAnalytics_DataMiningChallenge_2008.03.20.csv")
THORNTON = SHARED / "data" / "thornton_hiv" / "thornton_hiv.dta"
CLI = Path(sys.executable).with_name("coarse-mip")
COVARIATES = "recency,history_segment,history,mens,womens,zip_code,newbie,channel"


def run(*args, env=None):
    done = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
    assert "Traceback" not in done.stderr, done.stderr
    return done


def ok(*args, **kw):
    done = run(*args, **kw)
    assert done.returncode == 0, done.stderr
    return done


def assert_png(path):
    import matplotlib.image as mpimg

    image = mpimg.imread(path)
    assert image.shape[0] >= 300 and image.shape[1] >= 500
    assert image[..., :3].std() > 0.05                       # not blank


@pytest.fixture(scope="module")
def hillstrom(tmp_path_factory):
    if not HILLSTROM.is_file():
        pytest.skip(f"Hillstrom data not found at {HILLSTROM}")
    folder = tmp_path_factory.mktemp("hillstrom")
    df = pd.read_csv(HILLSTROM)
    df.insert(0, "id", np.arange(len(df)))
    rows = np.random.default_rng(0).permutation(len(df))
    df.iloc[rows[:6000]].to_csv(folder / "train.csv", index=False)
    df.iloc[rows[6000:12000]].to_csv(folder / "heldout.csv", index=False)
    return folder


@pytest.mark.skipif(not CLI.exists(), reason="the coarse-mip console script is not installed")
def test_hillstrom_chain(hillstrom):
    d = hillstrom
    experiment = ["--treatment", "segment", "--outcome", "spend", "--control", "No E-Mail", "--covariates", COVARIATES,
                  "--treatment-cost", "Mens E-Mail=0.1", "--treatment-cost", "Womens E-Mail=0.1", "--id-column", "id"]
    ok("estimate", d / "train.csv", *experiment, "-o", d / "profits.parquet")
    profits = pd.read_parquet(d / "profits.parquet")
    assert list(profits.columns) == ["id", "No E-Mail", "Mens E-Mail", "Womens E-Mail"] and len(profits) == 6000
    ok("curve", d / "profits.parquet", "--id-column", "id", "--K-max", "3", "--plot", d / "curve.png")
    assert_png(d / "curve.png")
    ok("solve", d / "profits.parquet", "--id-column", "id", "-K", "2", "--json", d / "solve.json")
    assert json.loads((d / "solve.json").read_text())["status"] == "optimal"
    ok("fit", d / "train.csv", *experiment, "-K", "1-3", "--plot", d / "fit.png", "-o", d / "policy.joblib")
    assert_png(d / "fit.png")
    ok("assign", d / "policy.joblib", d / "heldout.csv", "--id-column", "id", "-o", d / "offers.csv")
    offers = pd.read_csv(d / "offers.csv")
    assert list(offers.columns) == ["id", "treatment", "estimated_profit"] and len(offers) == 6000
    assert offers["id"].tolist() == pd.read_csv(d / "heldout.csv")["id"].tolist()
    if importlib.util.find_spec("distributed") is not None:      # the same, partition by partition on Dask
        (d / "heldout_parts").mkdir(exist_ok=True)
        heldout = pd.read_csv(d / "heldout.csv")
        heldout.iloc[:2500].to_parquet(d / "heldout_parts" / "a.parquet", index=False)
        heldout.iloc[2500:].to_parquet(d / "heldout_parts" / "b.parquet", index=False)
        ok("--workers", "1", "assign", d / "policy.joblib", d / "heldout_parts", "--id-column", "id",
           "-o", d / "offers_parts")
        lazy = pd.read_parquet(d / "offers_parts").sort_values("id")
        np.testing.assert_array_equal(lazy["treatment"].astype(str), offers.sort_values("id")["treatment"])
        np.testing.assert_allclose(lazy["estimated_profit"], offers.sort_values("id")["estimated_profit"])
        # Stage I fitted on a seeded sample, every row priced partition by partition.
        (d / "train_parts").mkdir(exist_ok=True)
        train = pd.read_csv(d / "train.csv")
        train.iloc[:3000].to_parquet(d / "train_parts" / "a.parquet", index=False)
        train.iloc[3000:].to_parquet(d / "train_parts" / "b.parquet", index=False)
        done = ok("--workers", "1", "estimate", d / "train_parts", *experiment, "--sample", "4000",
                  "-o", d / "profits_parts")
        priced = pd.read_parquet(d / "profits_parts")
        assert list(priced.columns) == ["id", "No E-Mail", "Mens E-Mail", "Womens E-Mail"] and len(priced) == 6000
        assert sorted(priced["id"]) == sorted(train["id"]) and np.isfinite(priced.iloc[:, 1:].to_numpy()).all()
        assert "fitted on" in done.stdout
        fails = run("--workers", "1", "estimate", d / "train_parts", *experiment, "-o", d / "p2")
        assert fails.returncode == 2 and "needs --sample" in fails.stderr
    done = ok("evaluate", d / "policy.joblib", d / "heldout.csv", "--json", d / "eval.json")
    report = json.loads((d / "eval.json").read_text())
    assert report["n"] == 6000 and len(report["lift_over_control"]["ci"]) == 2
    assert "over everyone on control" in done.stdout


@pytest.mark.skipif(not CLI.exists(), reason="the coarse-mip console script is not installed")
def test_thornton_chain(tmp_path):
    if not THORNTON.is_file():
        pytest.skip(f"Thornton data not found at {THORNTON}")
    df = pd.read_stata(THORNTON)
    villages = df["villnum"].dropna().unique()
    train_villages = set(np.random.default_rng(1).permutation(villages)[: len(villages) // 2])
    train, heldout = tmp_path / "train.csv", tmp_path / "heldout.csv"
    df[df["villnum"].isin(train_villages)].to_csv(train, index=False)
    df[~df["villnum"].isin(train_villages) & df["villnum"].notna()].to_csv(heldout, index=False)
    experiment = ["--treatment", "tinc", "--outcome", "got", "--covariates", "distvct,age", "--groups", "villnum",
                  "--estimator", "dose", "--margin", "3", "--dropna"]
    ok("estimate", train, *experiment, "-o", tmp_path / "profits.csv")
    ok("curve", tmp_path / "profits.csv", "--K-max", "3", "--plot", tmp_path / "curve.png")
    assert_png(tmp_path / "curve.png")
    ok("solve", tmp_path / "profits.csv", "-K", "2")
    ok("fit", train, *experiment, "-K", "1-3", "-o", tmp_path / "policy.joblib")
    fails = run("estimate", train, *experiment[:-1], "-o", tmp_path / "p.csv")        # no --dropna
    assert fails.returncode == 2 and "have missing values" in fails.stderr and "--dropna" in fails.stderr
    fails = run("assign", tmp_path / "policy.joblib", heldout, "-o", tmp_path / "offers.csv")
    assert fails.returncode == 2 and "missing covariate values" in fails.stderr
    ok("assign", tmp_path / "policy.joblib", heldout, "--dropna", "-o", tmp_path / "offers.csv")
    done = ok("evaluate", tmp_path / "policy.joblib", heldout, "--dropna")
    assert "DR value over everyone on control" in done.stdout


@pytest.mark.skipif(not CLI.exists(), reason="the coarse-mip console script is not installed")
def test_progress_bar_reaches_stderr_and_quiet_silences_it(tmp_path):
    rng = np.random.default_rng(0)
    n = 1500
    pd.DataFrame({"x": rng.normal(size=n), "dose": rng.choice([0.0, 0.1, 0.2], n),
                  "sales": rng.gamma(2.0, 5.0, n)}).to_csv(tmp_path / "e.csv", index=False)
    args = ["fit", tmp_path / "e.csv", "--treatment", "dose", "--outcome", "sales", "-K", "1-3",
            "-o", tmp_path / "p.joblib"]
    loud = ok("--progress", *args)
    assert "coarse-mip fit" in loud.stderr and "%|" in loud.stderr
    quiet = ok("--quiet", *args)
    assert "%|" not in quiet.stderr


def one_line_error(capsys, argv, message):
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("coarse-mip: error:") and message in err, err


@pytest.fixture
def small_experiment(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n), "arm": rng.choice(["none", "a", "b"], n),
                       "y": rng.gamma(2.0, 1.0, n)})
    path = tmp_path / "exp.csv"
    df.to_csv(path, index=False)
    return path


def test_user_errors_exit_2_with_one_line(tmp_path, capsys, small_experiment):
    dup = tmp_path / "dup.csv"
    dup.write_text("a,a,b\n1,2,3\n")
    one_line_error(capsys, ["solve", dup, "-K", "1"], "repeated column names ['a']")
    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    one_line_error(capsys, ["solve", header, "-K", "1"], "has no rows")
    good = tmp_path / "p.csv"
    good.write_text("a,b\n1,2\n3,1\n")
    one_line_error(capsys, ["solve", good, "-K", "1", "--json", tmp_path / "missing_dir" / "r.json"], "cannot write")
    one_line_error(capsys, ["curve", good, "--plot", tmp_path / "nope" / "c.png"], "cannot write")
    exp = small_experiment
    base = ["--treatment", "arm", "--outcome", "y", "--covariates", "x"]
    one_line_error(capsys, ["estimate", exp, "--treatment", "nope", "--outcome", "y", "-o", tmp_path / "o.csv"],
                   "treatment column 'nope' not in")
    one_line_error(capsys, ["estimate", exp, *base, "-o", tmp_path / "o.csv"], "need control=")
    one_line_error(capsys, ["estimate", exp, *base, "--control", "zzz", "-o", tmp_path / "o.csv"],
                   "control 'zzz' is not a treatment")
    one_line_error(capsys, ["estimate", exp, *base, "--control", "none", "--covariates", "x,w", "-o",
                            tmp_path / "o.csv"], "covariate column(s) ['w'] not in")
    one_line_error(capsys, ["estimate", exp, *base, "--control", "none", "--estimator", "magic", "-o",
                            tmp_path / "o.csv"], "invalid choice: 'magic'")
    one_line_error(capsys, ["fit", exp, *base, "--control", "none", "-K", "1-x", "-o", tmp_path / "p.joblib"],
                   "K must be an integer, a range")
    one_line_error(capsys, ["estimate", exp, *base, "--control", "none", "--treatment-cost", "a:1", "-o",
                            tmp_path / "o.csv"], "must look like LABEL=VALUE")
    not_policy = tmp_path / "x.joblib"
    not_policy.write_text("hello")
    one_line_error(capsys, ["assign", not_policy, exp, "-o", tmp_path / "a.csv"], "is not a saved coarse-mip policy")
    one_line_error(capsys, ["assign", tmp_path / "absent.joblib", exp, "-o", tmp_path / "a.csv"], "no such policy")
    assert main(["fit", str(exp), *base, "--control", "none", "-K", "2", "-o", str(tmp_path / "p.joblib")]) == 0
    capsys.readouterr()
    other = tmp_path / "other.csv"
    pd.read_csv(exp).drop(columns=["x"]).to_csv(other, index=False)
    one_line_error(capsys, ["assign", tmp_path / "p.joblib", other, "-o", tmp_path / "a.csv"],
                   "lacks the covariate column(s) ['x']")
    only_control = tmp_path / "only_control.csv"
    pd.read_csv(exp).query("arm == 'none'").to_csv(only_control, index=False)
    one_line_error(capsys, ["evaluate", tmp_path / "p.joblib", only_control], "no individual on arm(s)")
    one_line_error(capsys, ["solve", tmp_path / "nope.csv", "-K", "1"], "no such file")
