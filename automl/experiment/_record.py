"""The parts of experiment.json as typed, read-only records.

Each part reads the keys it knows and keeps every other key in ``extra``, so a
file written by a later version loses nothing when read here. A key that was
absent stays absent in ``to_dict`` (and a key stored as null stays null), so
``Part.from_dict(d).to_dict() == d`` for what the writers store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

P = TypeVar("P", bound="Part")
Decoder = Callable[[Any], Any]


@dataclass(frozen=True)
class Part:
    """Base of every record part: tolerant ``from_dict``, faithful ``to_dict``."""

    extra: dict[str, Any] = field(default_factory=dict, repr=False, kw_only=True)
    _present: frozenset[str] = field(default=frozenset(), repr=False, compare=False, kw_only=True)
    # key -> how to read its stored value (a nested part, a tuple); absent: kept as stored.
    decoders: ClassVar[dict[str, Decoder]] = {}

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name not in ("extra", "_present"))

    @classmethod
    def from_dict(cls: type[P], data: Mapping[str, Any] | None) -> P:
        data = data or {}
        known = cls.keys()
        values = {k: (cls.decoders[k](data[k]) if k in cls.decoders and data[k] is not None else data[k])
                  for k in known if k in data}
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**values, extra=extra, _present=frozenset(values))

    def to_dict(self) -> dict[str, Any]:
        defaults = type(self)()
        out = {}
        for name in self.keys():
            value = getattr(self, name)
            if name in self._present or value != getattr(defaults, name):
                out[name] = _encode(value)
        return {**out, **self.extra}


def _encode(value: Any) -> Any:
    if isinstance(value, Part):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):  # automl.data.Schema
        return value.to_dict()
    return value


def tuple_of(part: type[Part] | None = None) -> Decoder:
    """Decode a stored list as a tuple (of parts, when ``part`` is given)."""
    return lambda items: tuple(part.from_dict(i) if part else i for i in items)


@dataclass(frozen=True)
class BestTrial(Part):
    """The best search trial (or, after the defaults fallback, the defaults fitted without a search)."""

    algorithm: str | None = None
    label: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    cv_score: float | None = None
    cv_std: float | None = None
    trial: int | None = None


@dataclass(frozen=True)
class EnsembleMember(Part):
    trial: int | None = None
    algorithm: str | None = None
    weight: float = 0.0


@dataclass(frozen=True)
class Ensemble(Part):
    """Members chosen by greedy selection on out-of-fold predictions, and the scores that justified it."""

    members: tuple[EnsembleMember, ...] = ()
    oof_score: float | None = None
    best_single_oof: float | None = None
    decoders: ClassVar[dict[str, Decoder]] = {"members": tuple_of(EnsembleMember)}


SINGLE, ENSEMBLE = "single", "ensemble"
TRAINING_ROWS, ALL_ROWS = "training rows", "all rows"  # what trained the shipped model (ModelInfo.trained_on)


@dataclass(frozen=True)
class ModelInfo(Part):
    """What the experiment's model holds: one pipeline or a weighted ensemble; ``ensemble_note`` says why not."""

    kind: str = SINGLE
    algorithm: str | None = None
    ensemble: Ensemble | None = None
    ensemble_note: str | None = None
    trained_rows: int | None = None  # rows the shipped model was fitted on
    trained_on: str | None = None  # TRAINING_ROWS or ALL_ROWS (training + held-out); None: older experiments
    full_refit_note: str | None = None  # why it was not refit on all rows, when it could have been
    decoders: ClassVar[dict[str, Decoder]] = {"ensemble": Ensemble.from_dict}

    @property
    def is_ensemble(self) -> bool:
        return self.kind == ENSEMBLE

    @property
    def saw_holdout(self) -> bool:
        """Whether the shipped model trained on the held-out rows too (after they scored it)."""
        return self.trained_on == ALL_ROWS

    def rows_text(self, holdout_rows: int | None) -> str:
        """One sentence: which rows trained the shipped model, and what the held-out scores then describe."""
        n = "?" if self.trained_rows is None else f"{self.trained_rows:,}"
        if self.saw_holdout:
            held = "the held-out" if holdout_rows is None else f"the {holdout_rows:,} held-out"
            return (f"The shipped model was refit on all {n} rows after the held-out report; the held-out scores are "
                    f"those of the same configuration fitted without {held} rows.")
        out = f"The shipped model was fitted on the {n} training rows; the held-out rows never trained it."
        return out + (f" It was not refit on all rows: {self.full_refit_note}." if self.full_refit_note else "")


@dataclass(frozen=True)
class Timing(Part):
    """Wall-clock seconds and trial counts of the whole fit."""

    budget_s: float | None = None
    elapsed_s: float | None = None
    trials: int | None = None
    trials_complete: int | None = None
    trials_pruned: int | None = None
    trials_fail: int | None = None
    trials_running: int | None = None
    search_s: float | None = None
    refit_s: float | None = None  # the chosen model's fit on the training rows (the one the held-out rows score)
    full_refit_s: float | None = None  # its refit on all rows, when it was refit


@dataclass(frozen=True)
class Rows(Part):
    """Row counts of the split: training rows (searched and refit on) and held-out rows (scored once)."""

    train: int | None = None
    holdout: int | None = None


@dataclass(frozen=True)
class LeaderboardEntry(Part):
    """One completed trial, as stored (``params`` is the JSON text of its hyperparameters)."""

    rank: int | None = None
    trial: int | None = None
    algorithm: str | None = None
    label: str | None = None
    state: str | None = None
    score: float | None = None
    cv_std: float | None = None
    fit_time_s: float | None = None
    params: Any = None
    default: bool | None = None
    note: str | None = None

    @property
    def params_dict(self) -> dict[str, Any]:
        return json.loads(self.params) if isinstance(self.params, str) else dict(self.params or {})


@dataclass(frozen=True)
class RunConfig(Part):
    """The search's settings as stored: the read side of ``automl.api.FitConfig`` (which validates them)."""

    target: str | None = None
    task: str | None = None
    time_budget: float | None = None
    trials: int | None = None
    metric: str | None = None
    seed: int | None = None
    cv_folds: int | None = None
    holdout: float | None = None
    algorithms: tuple[str, ...] | None = None
    ensemble: bool | None = None
    onnx_only: bool | None = None
    exclude: tuple[str, ...] = ()
    storage: str | None = None
    source: str | None = None
    holdout_path: str | None = None
    decoders: ClassVar[dict[str, Decoder]] = {"algorithms": tuple_of(), "exclude": tuple_of()}
