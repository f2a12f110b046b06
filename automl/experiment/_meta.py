"""``ExperimentMeta``: experiment.json as one typed record, with its schema version.

Version 1 is the layout the writers (``automl.api``, ``automl.final``, the runner, retraining, the threshold)
store today; a file without ``schema_version`` was written before the key existed and has that same layout.
A later version adds keys; reading tolerates them (they stay in ``extra``) and a reader of an older file sees
the defaults below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from automl.data import Schema
from automl.experiment._record import (
    BestTrial,
    Decoder,
    LeaderboardEntry,
    ModelInfo,
    Part,
    Rows,
    RunConfig,
    Timing,
    tuple_of,
)

SCHEMA_VERSION = 1
UNVERSIONED = 1  # files written before the key existed


@dataclass(frozen=True)
class ExperimentMeta(Part):
    """Everything experiment.json holds, grouped as its writers store it (see the module docstring)."""

    schema_version: int = SCHEMA_VERSION
    # identity and lifecycle (Workspace.create, automl.api, the runner)
    id: str = ""
    name: str | None = None
    status: str | None = None
    created: str | None = None
    started: str | None = None
    finished: str | None = None
    error: str | None = None
    pid: int | None = None
    host: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    config: RunConfig = field(default_factory=RunConfig)
    # the problem (automl.api once the table is read)
    task: str | None = None
    target: str | None = None
    metric: str | None = None
    metric_greater_is_better: bool | None = None
    schema: Schema | None = None
    classes: tuple[Any, ...] = ()
    positive_class: Any = None
    dropped_missing_target: int | None = None
    left_out: dict[str, str] = field(default_factory=dict)
    rows: Rows = field(default_factory=Rows)
    notes: tuple[str, ...] = ()
    # the search (automl.api; remote workers read these)
    storage: str | None = None
    search_deadline: float | None = None
    trial_budget: int | None = None
    study_name: str | None = None
    # the result (automl.final)
    best: BestTrial | None = None
    model: ModelInfo | None = None
    leaderboard: tuple[LeaderboardEntry, ...] = ()
    holdout: dict[str, float | None] = field(default_factory=dict)
    timing: Timing = field(default_factory=Timing)
    # later changes: the decision threshold (evaluation) and champion / challenger lineage (monitor, runner)
    threshold: float | None = None
    champion: str | None = None
    live_rows_added: int | None = None
    promoted: str | None = None
    replaces: str | None = None
    superseded_by: str | None = None
    superseded: str | None = None

    decoders: ClassVar[dict[str, Decoder]] = {
        "config": RunConfig.from_dict, "schema": Schema.from_dict, "classes": tuple_of(), "rows": Rows.from_dict,
        "notes": tuple_of(), "best": BestTrial.from_dict, "model": ModelInfo.from_dict,
        "leaderboard": tuple_of(LeaderboardEntry), "timing": Timing.from_dict,
    }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ExperimentMeta:
        """Read what any version so far wrote; a file without a version is version 1."""
        data = dict(data or {})
        data.setdefault("schema_version", UNVERSIONED)
        return super().from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "schema_version": self.schema_version}

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def greater_is_better(self) -> bool:
        """Whether a larger value of the search metric is better (stored with the metric; true if unknown)."""
        return self.metric_greater_is_better is not False

    @property
    def headline_score(self) -> float | None:
        """The held-out score of the search metric, the number every view leads with."""
        return self.holdout.get(self.metric or "")

    def leaderboard_records(self) -> list[dict[str, Any]]:
        return [entry.to_dict() for entry in self.leaderboard]
