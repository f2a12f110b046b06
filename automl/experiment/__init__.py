"""The experiment: its typed record and the folder that stores it (atomic writes, statuses, workspace)."""

from automl.experiment._access import (
    ACCESS, ADMIN, OWNER, SINGLE_USER, VIEWER, Access, AccessDenied, Rights, Viewer, machine_owner, normal_email,
    read_access, require_manage, rights_of, share
)
from automl.experiment._audit import AUDIT, Change, read_changes, record_change
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

__all__ = ["ACCESS", "Access", "AccessDenied", "ADMIN", "ALL_ROWS", "atomic_write_bytes", "atomic_write_with", "AUDIT",
    "BestTrial", "CANCEL_FLAG", "CANCELLED", "Change", "check_model", "COMPLETED", "default_workspace", "dump_model",
    "Experiment", "ExperimentGone", "ExperimentMeta", "FAILED", "FINISHED", "HOLDOUT", "Interrupted", "LEGACY_MODEL",
    "load_model_file", "machine_owner", "MemberSummary", "META", "MODEL", "model_fingerprint", "model_summary",
    "ModelInfo", "ModelSummary", "normal_email", "now_iso", "OWNER", "PROGRESS", "QUEUED", "read_access",
    "read_changes", "read_json", "record_change", "record_failure", "Registry", "require_manage", "Rights",
    "rights_of", "RunConfig", "RUNNING", "SCHEMA_VERSION", "share", "shipped_rows_text", "SINGLE_USER", "Standing",
    "StopSignals", "storage_error", "storage_fault", "StorageError", "STUDY_DB", "Timing", "TRAIN", "TRAINING_ROWS",
    "TRUSTED_TYPES", "untrusted_types", "VIEWER", "Viewer", "Workspace", "write_json"]
