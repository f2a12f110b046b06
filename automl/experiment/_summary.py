"""``model_summary``: the one answer to "what is this model", for every page, command, report and card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from automl.experiment._meta import ExperimentMeta

SINGLE, ENSEMBLE, DEFAULTS, NONE = "single", "ensemble", "defaults", "none"


@dataclass(frozen=True)
class MemberSummary:
    trial: int | None
    algorithm: str | None
    label: str
    weight: float

    def text(self) -> str:
        return f"{self.label} (trial {self.trial}, weight {self.weight:.2f})"


@dataclass(frozen=True)
class ModelSummary:
    """What the experiment's model is.

    ``kind`` is ``single`` (the best trial refit), ``ensemble`` (a weighted blend of trials), ``defaults`` (no
    trial finished its cross-validation, so the first algorithm's defaults were fitted without a search) or
    ``none`` (no model yet). ``note`` says why there is no ensemble, when the search said so.
    """

    kind: str
    label: str
    algorithm: str | None = None
    trial: int | None = None
    params: dict[str, Any] | None = None
    members: tuple[MemberSummary, ...] = ()
    metric: str | None = None
    oof_score: float | None = None
    best_single_oof: float | None = None
    note: str | None = None

    @property
    def is_ensemble(self) -> bool:
        return self.kind == ENSEMBLE

    @property
    def short(self) -> str:
        """A few words for a table cell or a caption."""
        if self.kind == ENSEMBLE:
            return f"ensemble of {len(self.members)}"
        if self.kind == DEFAULTS:
            return f"{self.label} (defaults)"
        return self.label

    def members_text(self) -> str:
        return ", ".join(m.text() for m in self.members)

    def text(self) -> str:
        """One sentence (without its full stop): the model, and for a single model why no ensemble."""
        if self.kind == ENSEMBLE:
            out = f"an ensemble of {self.members_text()}"
            if self.oof_score is not None and self.best_single_oof is not None:
                out += (f": out-of-fold {self.metric} {self.oof_score:.4f} against {self.best_single_oof:.4f} "
                        "for the best single trial")
            return out
        if self.kind == DEFAULTS:
            return f"{self.label} with its default settings, fitted without a search (no trial completed in time)"
        if self.kind == NONE:
            return "no model yet"
        out = f"{self.label} (trial {self.trial})"
        return out + (f", a single model; no ensemble: {self.note}" if self.note else "")


def model_summary(record: ExperimentMeta) -> ModelSummary:
    """Read the stored model description (``model``, ``best``, the leaderboard's labels) into one summary."""
    model, best = record.model, record.best
    if model is None and best is None:
        return ModelSummary(kind=NONE, label="no model yet")
    note = model.ensemble_note if model is not None else None
    if model is not None and model.is_ensemble:
        ens = model.ensemble
        labels = _labels(record)
        members = tuple(MemberSummary(m.trial, m.algorithm, labels.get(m.algorithm, m.algorithm or "?"), m.weight)
                        for m in (ens.members if ens else ()))
        return ModelSummary(kind=ENSEMBLE, label="Ensemble", algorithm=model.algorithm, members=members,
                            metric=record.metric, oof_score=ens.oof_score if ens else None,
                            best_single_oof=ens.best_single_oof if ens else None)
    algorithm = (model.algorithm if model is not None else None) or (best.algorithm if best else None)
    label = (best.label if best and best.label else None) or _labels(record).get(algorithm, algorithm or "?")
    trial = best.trial if best else None
    return ModelSummary(kind=SINGLE if trial is not None else DEFAULTS, label=label, algorithm=algorithm,
                        trial=trial, params=dict(best.params) if best else None, metric=record.metric, note=note)


def _labels(record: ExperimentMeta) -> dict[str, str]:
    """Algorithm name -> its readable label, from what the search stored (this package is below the registry)."""
    out = {e.algorithm: e.label for e in record.leaderboard if e.algorithm and e.label}
    if record.best and record.best.algorithm and record.best.label:
        out[record.best.algorithm] = record.best.label
    return out


def shipped_rows_text(record: ExperimentMeta) -> str | None:
    """Which rows trained the shipped model and what the held-out scores describe; None before a model."""
    if record.model is None or record.model.trained_rows is None:
        return None
    return record.model.rows_text(record.rows.holdout)
