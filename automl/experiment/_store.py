"""The experiment folder: the one source of truth every page and command reads.

``<workspace>/<id>/experiment.json`` plus the study, the model and the data
the later stages need. Every write goes to a temporary file first and is
renamed into place, so a reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from automl.data import Schema
from automl.errors import AutoMLError, ExperimentNotFound

RUNNING, QUEUED, COMPLETED, FAILED, CANCELLED = "running", "queued", "completed", "failed", "cancelled"
FINISHED = (COMPLETED, FAILED, CANCELLED)
META = "experiment.json"
MODEL = "model.joblib"
HOLDOUT = "holdout.parquet"
TRAIN = "train.parquet"
PROGRESS = "progress.json"
CANCEL_FLAG = "cancel.flag"
STUDY_DB = "study.db"


def default_workspace() -> Path:
    return Path(os.environ.get("AUTOML_WORKSPACE", "workspace"))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_with(path: Path, writer: Callable[[Path], None]) -> None:
    """Let ``writer`` write a temporary file (e.g. joblib, parquet), then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    atomic_write_bytes(path, json.dumps(data, indent=2, default=_json_default).encode())


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (datetime, Path)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class Experiment:
    """A view of one experiment folder; cheap to create, reads lazily."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.id = self.path.name

    # -- metadata ---------------------------------------------------------
    @property
    def meta(self) -> dict[str, Any]:
        return read_json(self.path / META)

    def update(self, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into experiment.json (atomically) and return the result."""
        meta = self.meta if (self.path / META).exists() else {}
        meta.update(fields)
        write_json(self.path / META, meta)
        return meta

    @property
    def status(self) -> str:
        """The stored status, with a running experiment whose worker died reported as failed."""
        meta = self.meta
        status = meta.get("status", FAILED)
        if status in (RUNNING, QUEUED) and not _worker_alive(meta.get("pid"), meta.get("host")):
            return FAILED
        return status

    @property
    def task(self) -> str:
        return self.meta["task"]

    @property
    def target(self) -> str:
        return self.meta["target"]

    @property
    def metric(self) -> str:
        return self.meta["metric"]

    @property
    def schema(self) -> Schema:
        return Schema.from_dict(self.meta["schema"])

    @property
    def classes(self) -> list:
        return self.meta.get("classes", [])

    @property
    def name(self) -> str:
        return self.meta.get("name", self.id)

    # -- files ------------------------------------------------------------
    def file(self, name: str) -> Path:
        return self.path / name

    def write_json(self, name: str, data: Any) -> None:
        write_json(self.path / name, data)

    def read_json(self, name: str, default: Any = None) -> Any:
        path = self.path / name
        return read_json(path) if path.exists() else default

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        atomic_write_with(self.path / name, lambda p: frame.to_parquet(p, index=False))

    def read_frame(self, name: str) -> pd.DataFrame:
        path = self.path / name
        if not path.exists():
            raise AutoMLError(f"Experiment {self.id} has no {name}.",
                              "It may still be running, or it failed before saving it; train it again.")
        return pd.read_parquet(path)

    def load_model(self) -> Any:
        """The refit model (a Pipeline, or an ensemble of Pipelines) predicting on raw rows."""
        import joblib

        path = self.path / MODEL
        if not path.exists():
            raise AutoMLError(f"Experiment {self.id} has no model yet (status: {self.status}).",
                              "Wait for the search to finish, or start a new one.")
        return joblib.load(path)

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
        atomic_write_bytes(self.path / CANCEL_FLAG, now_iso().encode())

    @property
    def cancel_requested(self) -> bool:
        return (self.path / CANCEL_FLAG).exists()

    @property
    def storage_url(self) -> str:
        return self.meta.get("storage") or f"sqlite:///{(self.path / STUDY_DB).resolve()}"

    def __repr__(self) -> str:
        return f"Experiment({self.id!r}, path={str(self.path)!r})"


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


class Workspace:
    """A folder of experiment folders."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root else default_workspace()

    def create(self, name: str | None = None, **meta: Any) -> Experiment:
        self.root.mkdir(parents=True, exist_ok=True)
        exp_id = secrets.token_hex(8)  # 64 random bits: a shared link can't be guessed
        path = self.root / exp_id
        path.mkdir()
        exp = Experiment(path)
        exp.update(**{"id": exp_id, "name": name or f"experiment-{exp_id[:6]}", "created": now_iso(),
                       "status": QUEUED, **meta})
        return exp

    def get(self, exp_id: str) -> Experiment:
        exp_id = str(exp_id).strip()
        path = self.root / exp_id
        if not exp_id or not exp_id.isalnum() or not (path / META).exists():
            raise ExperimentNotFound(f"There is no experiment '{exp_id}' in the workspace '{self.root}'.",
                                     "Check the link or id, or open the Experiments page to pick one.")
        return Experiment(path)

    def list(self) -> list[Experiment]:
        """Experiments, newest first."""
        if not self.root.exists():
            return []
        exps = [Experiment(p) for p in self.root.iterdir() if (p / META).exists()]
        return sorted(exps, key=lambda e: e.meta.get("created", ""), reverse=True)

    def summaries(self) -> pd.DataFrame:
        """One row per experiment: what the Experiments page and ``automl list`` show."""
        rows = []
        for exp in self.list():
            meta = exp.meta
            rows.append({
                "id": exp.id, "name": meta.get("name"), "status": exp.status, "task": meta.get("task"),
                "target": meta.get("target"), "metric": meta.get("metric"),
                "cv_score": (meta.get("best") or {}).get("cv_score"),
                "holdout": (meta.get("holdout") or {}).get(meta.get("metric", ""), None),
                "algorithm": (meta.get("best") or {}).get("algorithm"),
                "trials": (meta.get("timing") or {}).get("trials"),
                "created": meta.get("created"), "duration_s": (meta.get("timing") or {}).get("elapsed_s"),
            })
        return pd.DataFrame(rows, columns=["id", "name", "status", "task", "target", "metric", "cv_score",
                                           "holdout", "algorithm", "trials", "created", "duration_s"])

    def rename(self, exp_id: str, name: str) -> None:
        name = name.strip()
        if not name:
            raise AutoMLError("An experiment name can't be empty.", "Type a name.")
        self.get(exp_id).update(name=name)

    def delete(self, exp_id: str) -> None:
        exp = self.get(exp_id)
        if exp.status in (RUNNING, QUEUED):
            raise AutoMLError(f"Experiment {exp_id} is still running.", "Cancel it first, then delete it.")
        # Rename first so a half-deleted folder is never listed as an experiment.
        trash = exp.path.with_name(f".deleted-{exp.id}")
        os.replace(exp.path, trash)
        shutil.rmtree(trash, ignore_errors=True)
