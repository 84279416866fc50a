import json

import numpy as np
import pandas as pd
import pytest

from coarse_mip.cli import main


@pytest.fixture
def profits_csv(tmp_path):
    df = pd.DataFrame({"id": ["a", "b", "c", "d"], "w": [1.0, 2.0, 1.0, 1.0],
                       "none": [0.0, 0.0, 0.0, 0.0], "low": [3.0, 0.0, 1.0, 1.0],
                       "high": [0.0, 2.0, 2.0, -1.0]})
    path = tmp_path / "p.csv"
    df.to_csv(path, index=False)
    return path


def test_solve_writes_json_and_assignments(profits_csv, tmp_path, capsys):
    out_json, out_csv = tmp_path / "r.json", tmp_path / "a.csv"
    code = main(["solve", str(profits_csv), "-K", "2", "--weights", "w", "--id-column", "id",
                 "--json", str(out_json), "--assignments", str(out_csv)])
    assert code == 0
    report = json.loads(out_json.read_text())
    assert report["status"] == "optimal" and report["labels"] == ["low", "high"]
    assert report["objective"] == 3.0 + 4.0 + 2.0 + 1.0
    assert (report["n"], report["m"], report["K"]) == (4, 3, 2)
    assigned = pd.read_csv(out_csv)
    assert assigned["id"].tolist() == ["a", "b", "c", "d"]
    assert assigned["treatment"].tolist() == ["low", "high", "high", "low"]
    assert "optimal" in capsys.readouterr().out


def test_parquet_input(profits_csv, tmp_path):
    path = tmp_path / "p.parquet"
    pd.read_csv(profits_csv).drop(columns=["id"]).to_parquet(path)
    assert main(["solve", str(path), "-K", "1", "--weights", "w", "--method", "enumerate"]) == 0


@pytest.mark.parametrize("args, message", [
    (["-K", "0", "--id-column", "id"], "K must be >= 1"),
    (["-K", "2", "--weights", "nope"], "weight column 'nope'"),
    (["-K", "2"], "not numeric"),                       # the id column is text
])
def test_user_errors_are_one_line_exit_2(profits_csv, capsys, args, message):
    assert main(["solve", str(profits_csv), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("coarse-mip: error:")


def test_missing_file_and_nan(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "missing.csv"), "-K", "1"]) == 2
    bad = tmp_path / "nan.csv"
    bad.write_text("a,b\n1,\n2,3\n")
    assert main(["solve", str(bad), "-K", "1"]) == 2
    assert "NaN" in capsys.readouterr().err


def test_curve_command(profits_csv, tmp_path, capsys):
    out = tmp_path / "curve.csv"
    assert main(["curve", str(profits_csv), "--K-max", "3", "--weights", "w", "--id-column", "id",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert table["K"].tolist() == [1, 2, 3] and np.isclose(table["share"].iloc[-1], 1.0)


def test_console_script_runs():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "coarse_mip.cli", "solve", "nope.csv", "-K", "1"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "no such file" in done.stderr and "Traceback" not in done.stderr
