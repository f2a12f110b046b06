"""The experiment: its typed record and the folder that stores it (atomic writes, statuses, workspace)."""

from automl.experiment._files import (
    StorageError, atomic_write_bytes, atomic_write_with, now_iso, read_json, storage_error, storage_fault, write_json
)
from automl.experiment._meta import SCHEMA_VERSION, ExperimentMeta
from automl.experiment._record import BestTrial, ModelInfo, RunConfig, Timing
from automl.experiment._outcome import record_failure
from automl.experiment._signals import Interrupted, StopSignals
from automl.experiment._store import (
    CANCELLED, CANCEL_FLAG, COMPLETED, FAILED, FINISHED, HOLDOUT, META, MODEL, PROGRESS, QUEUED, RUNNING, STUDY_DB,
    TRAIN, Experiment, ExperimentGone, model_fingerprint
)
from automl.experiment._summary import MemberSummary, ModelSummary, model_summary
from automl.experiment._workspace import Workspace, default_workspace

__all__ = ["BestTrial", "CANCELLED", "CANCEL_FLAG", "COMPLETED", "Experiment", "ExperimentGone", "ExperimentMeta",
    "FAILED", "FINISHED", "HOLDOUT", "Interrupted", "META", "MODEL", "MemberSummary", "ModelInfo", "ModelSummary",
    "PROGRESS", "QUEUED", "RUNNING", "RunConfig", "SCHEMA_VERSION", "STUDY_DB", "StopSignals", "StorageError", "TRAIN",
    "Timing", "Workspace", "atomic_write_bytes", "atomic_write_with", "default_workspace", "model_fingerprint",
    "model_summary", "now_iso", "read_json", "record_failure", "storage_error", "storage_fault", "write_json"]
