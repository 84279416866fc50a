"""The engine contract: what an engine is (:class:`EngineSpec`), what it is given
(:class:`SolveContext`) and what it returns (:class:`EngineResult`).

``solve`` builds one context per call (deadline, the run's random generator and the HiGHS
seed drawn from it) and checks the options against the engine's spec before it runs; the CLI
reads the same specs for its choices, so there is one list of options per engine.
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from .._validation import check_mip_gap, check_seed, check_time_limit

__all__ = ["EngineResult", "EngineSpec", "Option", "SolveContext"]


class EngineResult(NamedTuple):
    """An engine's answer: a menu of original column indices, a proven upper bound, figures;
    under side constraints also each individual's column and the shadow prices by column.
    ``menu is None`` when no feasible menu is known (``stats["infeasible"]`` says whether that
    is proven)."""

    menu: np.ndarray | None
    bound: float
    stats: dict
    assignment: np.ndarray | None = None
    duals: dict | None = None

    @classmethod
    def from_menus(cls, values, bound: float, stats: dict, *, complete: bool) -> "EngineResult":
        """The best menu of ``values`` (:class:`~coarse_mip.kernels.MenuValues`) with ``bound``; with
        none found, ``complete`` says whether the search proved that none exists."""
        stats = dict(stats, menus_solved=values.solved)
        answer = values.answer()
        if answer is None:
            stats["infeasible"] = bool(complete)
            return cls(None, bound, stats)
        offered, assignment, duals = answer
        return cls(offered, bound, stats, assignment, duals)


@dataclass(frozen=True)
class SolveContext:
    """What every engine of one ``solve`` call shares: limits, randomness, the clock."""

    time_limit: float | None
    mip_gap: float
    started: float
    rng: np.random.Generator
    highs_seed: int
    progress: bool = False            # bars on long searches (on a terminal)

    @classmethod
    def create(cls, *, time_limit=None, mip_gap=0.0, seed=0, progress: bool = False) -> "SolveContext":
        """Validate the limits and turn ``seed`` (None, int or Generator) into the run's Generator;
        HiGHS' seed is its first draw."""
        time_limit, mip_gap = check_time_limit(time_limit), check_mip_gap(mip_gap)
        rng = check_seed(seed)
        return cls(time_limit, mip_gap, time.perf_counter(), rng, int(rng.integers(2**31 - 1)), bool(progress))

    @property
    def deadline(self) -> float | None:
        return None if self.time_limit is None else self.started + self.time_limit

    def remaining(self) -> float | None:
        """Seconds left (never negative), None without a time limit."""
        return None if self.time_limit is None else max(0.0, self.deadline - time.perf_counter())

    def expired(self) -> bool:
        return self.time_limit is not None and time.perf_counter() >= self.deadline


@dataclass(frozen=True)
class Option:
    """One engine option: its default and what values it takes."""

    default: Any
    help: str
    choices: tuple | None = None
    kind: type | None = None          # int, float or bool when not a choice
    low: float | None = None          # smallest allowed number

    def check(self, name: str, value):
        """``value`` if valid for this option, else ValueError naming the option."""
        if value is None and self.default is None:
            return None
        if self.choices is not None:
            if value not in self.choices:
                raise ValueError(f"{name} must be one of {self.choices}, got {value!r}")
            return value
        if self.kind is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
            return bool(value)
        if self.kind in (int, float):
            number = numbers.Integral if self.kind is int else numbers.Real
            ok = isinstance(value, number) and not isinstance(value, bool)
            if not ok or (self.low is not None and value < self.low):
                what = "an integer" if self.kind is int else "a number"
                low = "" if self.low is None else f" >= {self.low}"
                raise ValueError(f"{name} must be {what}{low}, got {value!r}")
            return self.kind(value)
        return value

    def parse(self, name: str, text: str):
        """The value of ``name=text`` as typed on a command line."""
        if self.choices is not None or self.kind is None:
            return self.check(name, text)
        if self.kind is bool:
            lowered = text.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"{name} must be true or false, got {text!r}")
            return lowered in ("true", "1", "yes")
        try:
            return self.check(name, self.kind(text))
        except (TypeError, ValueError):
            if self.default is None and text.strip().lower() == "none":
                return None
            what = "an integer" if self.kind is int else "a number"
            raise ValueError(f"{name} must be {what}, got {text!r}") from None


@dataclass(frozen=True)
class EngineSpec:
    """An engine: its name, what it does, the function that runs it and its options.

    ``run(problem, K, ctx, **options) -> EngineResult``, with every option present and checked.
    ``constraints``: whether it honours side constraints.
    """

    name: str
    summary: str
    run: Callable[..., EngineResult]
    options: Mapping[str, Option] = field(default_factory=dict)
    constraints: bool = False

    def resolve(self, options: Mapping[str, Any]) -> dict:
        """Every option of the engine, given ones checked, others at their defaults."""
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(f"method {self.name!r} does not take option(s) {unknown}; "
                             f"it takes {sorted(self.options) or 'none'}")
        return {name: opt.check(name, options[name]) if name in options else opt.default
                for name, opt in self.options.items()}

    def parse(self, assignments: list[str]) -> dict:
        """``["name=value", ...]`` from a command line, parsed and checked."""
        out = {}
        for item in assignments:
            name, sep, text = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep:
                raise ValueError(f"option {item!r} must look like NAME=VALUE")
            if name not in self.options:
                raise ValueError(f"method {self.name!r} does not take option {name!r}; "
                                 f"it takes {sorted(self.options) or 'none'}")
            out[name] = self.options[name].parse(name, text)
        return out
