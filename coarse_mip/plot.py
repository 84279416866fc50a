"""The profit-vs-K figure (headless: a bare matplotlib Figure on the Agg canvas)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["plot_profit_curve", "save_profit_curve"]


def plot_profit_curve(curve: pd.DataFrame, ax=None, *, others: dict | None = None, title: str | None = None):
    """Draw a :func:`coarse_mip.profit_curve` table: the objective, its certified bound as a band,
    reference lines for the best single treatment (K = 1) and full personalization, and any
    ``others`` ({name: DataFrame with K and objective}, e.g. a heuristic or a baseline).

    Returns the Axes (a new Figure's when ``ax`` is None).
    """
    if ax is None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 4.4))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
    K, obj, bound = curve["K"], curve["objective"], curve["bound"]
    ax.fill_between(K, obj, bound, color="C0", alpha=0.25, label="certified band (objective to bound)")
    ax.plot(K, obj, "o-", color="C0", lw=2, label=str(curve.attrs.get("method", "exact")))
    for k, (name, table) in enumerate((others or {}).items()):
        ax.plot(table["K"], table["objective"], ".--", color=f"C{k + 2}", label=name)
    single = curve.loc[curve["K"] == curve["K"].min(), "objective"]
    if len(single):
        ax.axhline(float(single.iloc[0]), color="grey", ls=":", label="best single treatment")
    full = curve.attrs.get("full_personalization")
    if full is not None:
        ax.axhline(float(full), color="black", ls="--", lw=1, label="full personalization")
    ax.set(xlabel="K (treatments offered)", ylabel="total profit", title=title or "profit vs K")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def save_profit_curve(curve: pd.DataFrame, path, **kw) -> Path:
    """Write :func:`plot_profit_curve` of ``curve`` to ``path`` (PNG)."""
    ax = plot_profit_curve(curve, **kw)
    fig = ax.figure
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path
