"""The experiment folder: the one source of truth every page and command reads.

``<workspace>/<id>/experiment.json`` plus the study, the model and the data
the later stages need. Writes are atomic (see ``_files``). Readers use
:attr:`Experiment.record`, the typed view; ``meta`` is the raw dict the
writers merge into.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from automl.data import Schema
from automl.errors import AutoMLError
from automl.experiment._files import (
    StorageError,
    atomic_write_bytes,
    atomic_write_with,
    file_version,
    fingerprint,
    now_iso,
    read_json,
    write_json,
)
from automl.experiment._meta import SCHEMA_VERSION, ExperimentMeta
from automl.experiment._model_file import dump_model, load_model_file

RUNNING, QUEUED, COMPLETED, FAILED, CANCELLED = "running", "queued", "completed", "failed", "cancelled"
FINISHED = (COMPLETED, FAILED, CANCELLED)
META = "experiment.json"
MODEL = "model.skops"  # the one place the file name is spelled; see _model_file for why not a pickle
LEGACY_MODEL = "model.joblib"  # what earlier versions saved: never unpickled
HOLDOUT = "holdout.parquet"
TRAIN = "train.parquet"
PROGRESS = "progress.json"
CANCEL_FLAG = "cancel.flag"
STUDY_DB = "study.db"


class Experiment:
    """A view of one experiment folder; cheap to create, reads lazily."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.id = self.path.name
        self._record: ExperimentMeta | None = None
        self._record_version: tuple[int, ...] | None = None
        self._cancel = False  # set by request_cancel: holds even when the flag file can't be written

    # -- metadata ---------------------------------------------------------
    @property
    def meta(self) -> dict[str, Any]:
        """The raw dict, for this package and the writers; every reader uses :attr:`record`."""
        return read_json(self.path / META)

    @property
    def record(self) -> ExperimentMeta:
        """experiment.json as a typed record, parsed once per version of the file.

        The file is checked (one ``stat``) on each access, so a write by another process (the worker) shows
        at once; :meth:`update` drops the cached record.
        """
        path = self.path / META
        if self._record is None or self._record_version != file_version(path):
            with path.open("rb") as fh:  # the version of the very bytes read, even if a writer renames meanwhile
                stat = os.fstat(fh.fileno())
                data = json.loads(fh.read())
            self._record = ExperimentMeta.from_dict(data)
            self._record_version = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        return self._record

    def update(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into experiment.json (atomically) and return the result."""
        if self.removed:  # never write a fresh experiment.json into a removed (or recreated) folder
            raise ExperimentGone(self.id)
        meta = self.meta
        meta.setdefault("schema_version", SCHEMA_VERSION)  # version 1 had no key; the layout is the same
        meta.update(fields)
        write_json(self.path / META, meta, make_parent=False)
        self._record = None
        return meta

    @property
    def removed(self) -> bool:
        """The folder (or its experiment.json) is gone: removed underneath whoever holds this view."""
        return not (self.path / META).exists()

    @property
    def status(self) -> str:
        """The stored status, with a running experiment whose worker died reported as failed."""
        record = self.record
        status = record.status or FAILED
        if status in (RUNNING, QUEUED) and not _worker_alive(record.pid, record.host):
            return FAILED
        return status

    @property
    def worker_died(self) -> bool:
        """Stored as running or queued, but the process that owned it is gone (killed, or the machine rebooted)."""
        record = self.record
        return record.status in (RUNNING, QUEUED) and not _worker_alive(record.pid, record.host)

    def no_model_reason(self) -> str:
        """Why there is no model, in words that are true for this experiment (for pages and commands)."""
        record = self.record
        done = int(self.progress.get("complete") or 0)
        if self.worker_died:
            if not done:
                return "its worker stopped unexpectedly before the first trial completed"
            return (f"its worker stopped unexpectedly after {done} completed trial{'s' * (done != 1)}; they are "
                    "kept in its study, and the search can be resumed (automl.resume) or trained again")
        if record.error:
            return record.error
        if done:
            return (f"it stopped after {done} completed trial{'s' * (done != 1)}, before its model was refit; "
                    "the search can be resumed (automl.resume)")
        return "it stopped before the first trial completed"

    @property
    def task(self) -> str | None:
        return self.record.task

    @property
    def target(self) -> str | None:
        return self.record.target

    @property
    def metric(self) -> str | None:
        return self.record.metric

    @property
    def schema(self) -> Schema:
        schema = self.record.schema
        if schema is None:
            raise AutoMLError(f"Experiment {self.id} has no column schema yet (status: {self.status}).",
                              "Wait until its table has been read, or train it again.")
        return schema

    @property
    def classes(self) -> list:
        return list(self.record.classes)

    @property
    def name(self) -> str:
        return self.record.display_name or self.id

    # -- the model ----------------------------------------------------------
    @property
    def model_path(self) -> Path:
        return self.path / MODEL

    @property
    def has_model(self) -> bool:
        return self.model_path.exists()

    # -- files ------------------------------------------------------------
    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, data: Any) -> None:
        write_json(self._writable(name), data, make_parent=False)

    def read_json(self, name: str, default: Any = None) -> Any:
        path = self.path / name
        return read_json(path) if path.exists() else default

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        atomic_write_with(self._writable(name), lambda p: frame.to_parquet(p, index=False), make_parent=False)

    def _writable(self, name: str) -> Path:
        """The path of ``name`` in this folder, its sub-folders made (``explain/…``); never the folder itself."""
        if self.removed:
            raise ExperimentGone(self.id)
        target = self.path / name
        if target.parent != self.path:
            target.parent.mkdir(parents=True, exist_ok=True)  # inside a folder that exists: never recreates it
        return target

    def read_frame(self, name: str) -> pd.DataFrame:
        path = self.path / name
        if not path.exists():
            raise AutoMLError(f"Experiment {self.id} has no {name}.",
                              "It may still be running, or it failed before saving it; train it again.")
        return pd.read_parquet(path)

    def load_model(self) -> Any:
        """The refit model (a Pipeline, or an ensemble of Pipelines) predicting on raw rows, loaded from skops
        with only trusted types and its tree indices checked."""
        if not self.has_model:
            raise self.no_model_error()
        return load_model_file(self.model_path)

    def save_model(self, model: Any) -> None:
        """Write the model file atomically (skops; see :func:`load_model`)."""
        dump_model(model, self.model_path)

    def no_model_error(self) -> AutoMLError:
        """Why there is no model to load: not finished yet, or saved by a version that pickled it."""
        if (self.path / LEGACY_MODEL).exists():
            return AutoMLError(f"Experiment {self.id} was saved by an older version as {LEGACY_MODEL}, a pickle "
                               "file this version does not load (loading one can run any code in it).",
                               "Train the experiment again (automl fit, or Retrain on its page) to save a "
                               f"{MODEL} file.")
        return AutoMLError(f"Experiment {self.id} has no model yet (status: {self.status}).",
                           "Wait for the search to finish, or start a new one.")

    def holdout(self) -> pd.DataFrame:
        """Held-out rows: features, the target, ``prediction`` and ``proba_<class>`` columns."""
        return self.read_frame(HOLDOUT)

    def train_frame(self) -> pd.DataFrame:
        """The rows the model was trained on (features and target)."""
        return self.read_frame(TRAIN)

    @property
    def progress(self) -> dict[str, Any]:
        return self.read_json(PROGRESS, {}) or {}

    def request_cancel(self) -> None:
        """Ask the search to stop (after the current fold, or at once inside a fit that checks its clock).

        Holds in this process even if the flag file can't be written (a full disk); other processes see
        the flag file.
        """
        self._cancel = True
        atomic_write_bytes(self._writable(CANCEL_FLAG), now_iso().encode(), make_parent=False)

    def clear_cancel(self) -> None:
        """Forget an earlier cancel (here and in the flag file): a resumed search starts afresh."""
        self._cancel = False
        (self.path / CANCEL_FLAG).unlink(missing_ok=True)

    @property
    def cancel_requested(self) -> bool:
        """A cancel asked here or by another process; a removed folder stops its search too."""
        return self._cancel or (self.path / CANCEL_FLAG).exists() or self.removed

    @property
    def storage_url(self) -> str:
        return self.record.storage or f"sqlite:///{(self.path / STUDY_DB).resolve()}"

    def __repr__(self) -> str:
        return f"Experiment({self.id!r}, path={str(self.path)!r})"


def model_fingerprint(experiment: Experiment) -> str:
    """Changes whenever the experiment's model file is rewritten (a refit, a new threshold): the one key for
    every cache of something derived from the model (explanations, exported files, loaded models)."""
    if not experiment.has_model:
        raise experiment.no_model_error()
    return fingerprint(experiment.model_path)


class ExperimentGone(StorageError):
    """The experiment's folder was removed while a search or a page was using it."""

    def __init__(self, exp_id: str) -> None:
        super().__init__(f"The folder of experiment {exp_id} was removed while it was in use; nothing more is "
                         "saved there.", "Start the search again. To stop a running search, cancel it; delete it "
                         "once it has stopped.")


def _worker_alive(pid: int | None, host: str | None) -> bool:
    if not pid:
        return True  # not started by a worker we track: trust the stored status
    if host and host != os.uname().nodename:
        return True  # another machine's worker: we can't tell from here
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _not_zombie(int(pid))


def _not_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True
