"""The experiment: its typed record and the folder that stores it (atomic writes, statuses, workspace)."""

from automl.experiment._files import (
    StorageError, atomic_write_bytes, atomic_write_with, now_iso, read_json, storage_error, storage_fault, write_json
)
from automl.experiment._meta import SCHEMA_VERSION, ExperimentMeta
from automl.experiment._model_check import check_model
from automl.experiment._model_file import TRUSTED_TYPES, dump_model, load_model_file, untrusted_types
from automl.experiment._record import ALL_ROWS, TRAINING_ROWS, BestTrial, ModelInfo, RunConfig, Timing
from automl.experiment._outcome import record_failure
from automl.experiment._registry import Registry, Standing
from automl.experiment._signals import Interrupted, StopSignals
from automl.experiment._store import (
    CANCEL_FLAG, CANCELLED, COMPLETED, FAILED, FINISHED, HOLDOUT, LEGACY_MODEL, META, MODEL, PROGRESS, QUEUED, RUNNING,
    STUDY_DB, TRAIN, Experiment, ExperimentGone, model_fingerprint
)
from automl.experiment._summary import MemberSummary, ModelSummary, model_summary, shipped_rows_text
from automl.experiment._workspace import Workspace, default_workspace

__all__ = ["ALL_ROWS", "BestTrial", "CANCELLED", "CANCEL_FLAG", "COMPLETED", "Experiment", "ExperimentGone",
    "ExperimentMeta", "FAILED", "FINISHED", "HOLDOUT", "Interrupted", "LEGACY_MODEL", "META", "MODEL",
    "MemberSummary", "ModelInfo", "ModelSummary", "PROGRESS", "QUEUED", "RUNNING", "Registry", "RunConfig",
    "SCHEMA_VERSION", "STUDY_DB", "Standing", "StopSignals", "StorageError", "TRAIN", "TRAINING_ROWS",
    "TRUSTED_TYPES", "Timing", "Workspace", "atomic_write_bytes", "atomic_write_with", "check_model",
    "default_workspace", "dump_model", "load_model_file", "model_fingerprint", "model_summary", "now_iso",
    "read_json", "record_failure", "shipped_rows_text", "storage_error", "storage_fault", "untrusted_types",
    "write_json"]
