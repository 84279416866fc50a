"""Instance generators and readers for tests, benchmarks and the demo.

Generators return profit matrices (n, m) for Stage II; they know nothing of Stage I. The
readers load public p-median instances (OR-Library pmed, TSPLIB coordinates) as cost
matrices; the p-median with cost C is coarse personalization with profits ``-C``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["FAMILIES", "synthetic_profits", "discount_grid", "read_orlib_pmed", "read_orlib_pmedcap",
           "read_tsplib", "floor_euclid"]

FAMILIES = ("uniform", "smooth", "noisy", "ties", "negative")


def discount_grid(m: int, max_discount: float = 0.30) -> np.ndarray:
    """Candidate discounts ``0 .. max_discount`` on ``m`` evenly spaced points (control first)."""
    return np.linspace(0.0, max_discount, m)


def synthetic_profits(n: int, m: int, family: str = "smooth", *, seed=0, noise: float = 0.02,
                      arms: int = 7) -> np.ndarray:
    """A seeded profit matrix of shape (n, m) from one instance family.

    Families
    --------
    uniform
        Independent U(0, 1) entries: no structure at all.
    smooth
        What Stage I produces: incremental profit of a discount ``d`` (``discount_grid``)
        for a customer with logistic purchase probability ``sigmoid(a_i + b_i d)``, basket
        value ``v_i`` and margin ``mu``: ``v_i [p_i(d) (mu - d) - p_i(0) mu]``, plus estimation
        noise drawn at ``arms`` experimental arms and interpolated linearly between them,
        so every row stays a smooth curve in the discount. Column 0 is control (profit 0
        before noise).
    noisy
        ``smooth`` plus independent N(0, (noise * scale)^2) on every entry (unstructured).
    ties
        Integers 0..3: heavy ties within and across rows.
    negative
        U(-1, 0.2): mostly losses, the best column may still be negative.
    """
    rng = np.random.default_rng(seed)
    if family == "uniform":
        return rng.random((n, m))
    if family == "ties":
        return rng.integers(0, 4, size=(n, m)).astype(np.float64)
    if family == "negative":
        return rng.uniform(-1.0, 0.2, size=(n, m))
    if family not in ("smooth", "noisy"):
        raise ValueError(f"unknown family {family!r}; choose one of {FAMILIES}")
    d = discount_grid(m)
    a = rng.normal(-1.5, 0.8, size=n)[:, None]           # baseline purchase log-odds
    b = rng.lognormal(np.log(8.0), 0.6, size=n)[:, None]  # discount sensitivity
    v = rng.lognormal(np.log(50.0), 0.5, size=n)[:, None]  # basket value
    mu = 0.35                                              # margin at list price
    p = 1.0 / (1.0 + np.exp(-(a + b * d[None, :])))
    P = v * (p * (mu - d[None, :]) - p[:, :1] * mu)
    scale = v * mu * 0.1
    knots = np.linspace(0.0, d[-1], max(2, arms))
    eps = rng.normal(0.0, noise, size=(n, knots.size)) * scale
    eps[:, 0] = 0.0                                        # control is measured as the baseline
    P += eps @ _interp_matrix(knots, d)
    if family == "noisy":
        P += rng.normal(0.0, noise, size=(n, m)) * scale
    return P


def _interp_matrix(knots: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Matrix (len(knots), len(x)) whose product with knot values interpolates linearly at x."""
    eye = np.eye(knots.size)
    return np.stack([np.interp(x, knots, e) for e in eye])


def read_orlib_pmed(path) -> tuple[np.ndarray, int]:
    """Read an OR-Library p-median file; return (cost matrix (n, n), p).

    Edges are undirected; a repeated edge takes its *last* cost (OR-Library's rule, see
    shared/benchmarks/orlib-pmed/SOURCES.md); costs are all-pairs shortest paths.
    """
    tokens = Path(path).read_text().split()
    n, n_edges, p = (int(x) for x in tokens[:3])
    e = np.array(tokens[3:3 + 3 * n_edges], dtype=np.int64).reshape(n_edges, 3)
    if e.shape[0] != n_edges:
        raise ValueError(f"{path}: expected {n_edges} edges, found {e.shape[0]}")
    i, j, c = e[:, 0] - 1, e[:, 1] - 1, e[:, 2].astype(np.float64)
    # Last occurrence wins, for (i, j) and (j, i) alike: keep the last row of each pair.
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    key = lo * n + hi
    _, last_rev = np.unique(key[::-1], return_index=True)
    keep = n_edges - 1 - last_rev
    D = np.full((n, n), np.inf)
    D[lo[keep], hi[keep]] = c[keep]
    D[hi[keep], lo[keep]] = c[keep]
    np.fill_diagonal(D, 0.0)
    for k in range(n):                                     # Floyd-Warshall, one pivot per pass
        np.minimum(D, D[:, k, None] + D[None, k, :], out=D)
    return D, p


def read_orlib_pmedcap(path) -> tuple[np.ndarray, np.ndarray, int, float]:
    """Read an OR-Library capacitated p-median file (Osman & Christofides 1994); return
    (coordinates (n, 2), demands (n,), p, capacity Q). Distances are ``floor_euclid`` of the
    coordinates (shared/benchmarks/orlib-pmedcap/SOURCES.md)."""
    tokens = Path(path).read_text().split()
    n, p, Q = int(tokens[2]), int(tokens[3]), float(tokens[4])
    table = np.array(tokens[5:5 + 4 * n], dtype=np.float64).reshape(n, 4)
    if table.shape[0] != n:
        raise ValueError(f"{path}: expected {n} customers, found {table.shape[0]}")
    return table[:, 1:3], table[:, 3], p, Q


def read_tsplib(path) -> np.ndarray:
    """Read the NODE_COORD_SECTION of a TSPLIB file; return coordinates (n, 2)."""
    lines = Path(path).read_text().splitlines()
    start = next(k for k, line in enumerate(lines) if line.strip().startswith("NODE_COORD_SECTION")) + 1
    rows = []
    for line in lines[start:]:
        parts = line.split()
        if not parts or parts[0] == "EOF":
            break
        rows.append((float(parts[1]), float(parts[2])))
    return np.array(rows)


def floor_euclid(xy: np.ndarray, other: np.ndarray | None = None) -> np.ndarray:
    """``floor(sqrt(dx^2 + dy^2))`` between points (n, 2) and (m, 2): the DAE 2023 convention."""
    other = xy if other is None else other
    diff = xy[:, None, :] - other[None, :, :]
    return np.floor(np.sqrt((diff ** 2).sum(axis=2)))
