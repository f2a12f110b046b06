"""Declared parameter constraints, checked in one place (scikit-learn's ``_param_validation`` style).

Why: hand-written ``if``s let ``nan`` through (every comparison with it is False), accept ``inf`` as a budget
that never ends and word each refusal differently. A constraint here says what is allowed, once, and every
refusal reads "The 'x' parameter of fit must be … Got … instead."
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

from automl.errors import AutoMLError


class Constraint:
    """One allowed kind of value; :meth:`describe` completes "must be …"."""

    def is_satisfied_by(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Constraint):
    """A finite number (``Integral`` or ``Real``) within bounds; ``closed`` says which ends are allowed."""

    kind: type
    left: float | None
    right: float | None
    closed: str = "both"  # "both", "left", "right" or "neither"

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if not math.isfinite(float(value)):
            return False
        open_left, open_right = self.closed in ("right", "neither"), self.closed in ("left", "neither")
        if self.left is not None and (value < self.left or (value == self.left and open_left)):
            return False
        return not (self.right is not None and (value > self.right or (value == self.right and open_right)))

    def describe(self) -> str:
        what = "an integer" if self.kind is Integral else "a finite number"
        low = "" if self.left is None else f"{'>=' if self.closed in ('both', 'left') else '>'} {_number(self.left)}"
        high = "" if self.right is None else \
            f"{'<=' if self.closed in ('both', 'right') else '<'} {_number(self.right)}"
        if low and high:
            return f"{what} {low} and {high}"
        return f"{what} {low or high}".rstrip()


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values."""

    values: tuple

    def is_satisfied_by(self, value: Any) -> bool:
        return value in self.values

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))


@dataclass(frozen=True)
class Text(Constraint):
    """A string of bounded length without control characters (it ends up in file names, tables and pages)."""

    min_length: int = 1
    max_length: int = 200

    def is_satisfied_by(self, value: Any) -> bool:
        return (isinstance(value, str) and self.min_length <= len(value.strip()) <= self.max_length
                and not any(ord(ch) < 32 for ch in value))

    def describe(self) -> str:
        return f"a text of {self.min_length} to {self.max_length} characters without control characters"


@dataclass(frozen=True)
class Satisfies(Constraint):
    """Any value the predicate accepts (for checks that are not a range or a set)."""

    predicate: Callable[[Any], bool]
    description: str

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False

    def describe(self) -> str:
        return self.description


@dataclass(frozen=True)
class TextList(Constraint):
    """A list of strings (or None)."""

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)

    def describe(self) -> str:
        return "a list of names"


def _number(bound: float) -> str:
    return f"{int(bound):,}" if float(bound).is_integer() and abs(bound) < 1e15 else f"{bound:g}"


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def validate_params(params: Mapping[str, Any], constraints: Mapping[str, Iterable[Constraint | None]],
                    caller: str, fixes: Mapping[str, str] | None = None) -> None:
    """Raise an :class:`AutoMLError` for the first parameter none of its constraints accepts.

    ``None`` in a parameter's constraints allows ``None``; parameters without constraints are not checked.
    """
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        allowed = list(allowed)
        if value is None and None in allowed:
            continue
        rules = [c for c in allowed if c is not None]
        if any(c.is_satisfied_by(value) for c in rules):
            continue
        described = " or ".join(c.describe() for c in rules)  # (None, where allowed, is left unsaid: it is the default)
        raise AutoMLError(f"The '{name}' parameter of {caller} must be {described}. Got {_shown(value)} instead.",
                          (fixes or {}).get(name))
