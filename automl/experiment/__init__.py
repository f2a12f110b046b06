"""The experiment: its typed record and the folder that stores it (atomic writes, statuses, workspace)."""

from automl.experiment._files import atomic_write_bytes, atomic_write_with, now_iso, read_json, write_json
from automl.experiment._meta import SCHEMA_VERSION, ExperimentMeta
from automl.experiment._model_check import check_model
from automl.experiment._model_file import TRUSTED_TYPES, dump_model, load_model_file, untrusted_types
from automl.experiment._record import BestTrial, ModelInfo, RunConfig, Timing
from automl.experiment._store import (
    CANCEL_FLAG, CANCELLED, COMPLETED, FAILED, FINISHED, HOLDOUT, LEGACY_MODEL, META, MODEL, PROGRESS, QUEUED, RUNNING,
    STUDY_DB, TRAIN, Experiment, Workspace, default_workspace, model_fingerprint
)
from automl.experiment._summary import MemberSummary, ModelSummary, model_summary

__all__ = ["BestTrial", "CANCELLED", "CANCEL_FLAG", "COMPLETED", "Experiment", "ExperimentMeta", "FAILED", "FINISHED",
    "HOLDOUT", "LEGACY_MODEL", "META", "MODEL", "MemberSummary", "ModelInfo", "ModelSummary", "PROGRESS", "QUEUED",
    "RUNNING", "RunConfig", "SCHEMA_VERSION", "STUDY_DB", "TRAIN", "TRUSTED_TYPES", "Timing", "Workspace",
    "atomic_write_bytes", "atomic_write_with", "check_model", "default_workspace", "dump_model", "load_model_file",
    "model_fingerprint", "model_summary", "now_iso", "read_json", "untrusted_types", "write_json"]
