"""The layers contract (pyproject.toml, import-linter) holds, and breaks on an upward import."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(package_parent: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(package_parent), "PATH": str(LINT.parent)}
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=package_parent, env=env, capture_output=True, text=True)


@pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (pip install -e '.[test]')")
def test_an_upward_import_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "coarse_mip", tmp_path / "coarse_mip", ignore=shutil.ignore_patterns("__pycache__"))
    assert lint(tmp_path).returncode == 0
    ops = tmp_path / "coarse_mip" / "rows" / "_ops.py"
    ops.write_text(ops.read_text() + "\nfrom ..engines import ENGINES  # noqa: E402  an upward import\n")
    broken = lint(tmp_path)
    assert broken.returncode != 0
    assert "Layers import downward only BROKEN" in broken.stdout
    assert "coarse_mip.rows._ops -> coarse_mip.engines" in broken.stdout
