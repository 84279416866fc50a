"""Helpers shared by the benchmark scripts: result folder, markdown tables, version stamp."""

from __future__ import annotations

import platform
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
SHARED = HERE.parent.parent / "shared" / "benchmarks"


def markdown_table(df: pd.DataFrame, floatfmt: str = ".4g") -> str:
    """A GitHub markdown table of ``df`` (no extra dependency)."""
    def fmt(v):
        return format(v, floatfmt) if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(map(str, df.columns)) + " |",
             "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def versions() -> dict:
    from importlib.metadata import version

    import coarse_mip
    return {"python": platform.python_version(), "coarse_mip": coarse_mip.__version__,
            "pyomo": version("pyomo"), "highspy": version("highspy"), "numpy": version("numpy")}
