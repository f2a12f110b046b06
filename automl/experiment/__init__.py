"""The experiment: its typed record and the folder that stores it (atomic writes, statuses, workspace)."""

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
    atomic_write_bytes,
    atomic_write_with,
    default_workspace,
    now_iso,
    read_json,
    write_json,
)

__all__ = ["CANCEL_FLAG", "CANCELLED", "COMPLETED", "FAILED", "FINISHED", "HOLDOUT", "META", "MODEL", "PROGRESS",
           "QUEUED", "RUNNING", "STUDY_DB", "TRAIN", "Experiment", "Workspace", "atomic_write_bytes",
           "atomic_write_with", "default_workspace", "now_iso", "read_json", "write_json"]
