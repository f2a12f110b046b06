"""The experiment: its typed record and the folder that stores it (atomic writes, statuses, workspace)."""

from automl.experiment._files import atomic_write_bytes, atomic_write_with, now_iso, read_json, write_json
from automl.experiment._meta import SCHEMA_VERSION, ExperimentMeta
from automl.experiment._record import BestTrial, ModelInfo, RunConfig, Timing
from automl.experiment._store import (
    CANCEL_FLAG,
    CANCELLED,
    COMPLETED,
    FAILED,
    FINISHED,
    HOLDOUT,
    META,
    MODEL,
    PROGRESS,
    QUEUED,
    RUNNING,
    STUDY_DB,
    TRAIN,
    Experiment,
    Workspace,
    default_workspace,
    model_fingerprint,
)
from automl.experiment._summary import MemberSummary, ModelSummary, model_summary

__all__ = ["CANCEL_FLAG", "CANCELLED", "COMPLETED", "FAILED", "FINISHED", "HOLDOUT", "META", "MODEL", "PROGRESS",
           "QUEUED", "RUNNING", "SCHEMA_VERSION", "STUDY_DB", "TRAIN", "BestTrial", "Experiment", "ExperimentMeta",
           "MemberSummary", "ModelInfo", "ModelSummary", "RunConfig", "Timing", "Workspace", "atomic_write_bytes",
           "atomic_write_with", "default_workspace", "model_fingerprint", "model_summary", "now_iso", "read_json",
           "write_json"]
