"""The workspace: a folder of experiment folders (create, list, locate, rename, delete) and its model registry.

Creation leaves a complete experiment (its experiment.json written) or nothing; listing never shows,
nor recreates, a folder being deleted or removed by hand.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from automl.errors import AutoMLError, ExperimentNotFound
from automl.experiment._access import ACCESS, Access, Viewer, machine_owner, read_access, require_manage
from automl.experiment._audit import record_change
from automl.experiment._files import now_iso, storage_error, write_json
from automl.experiment._locate import locate
from automl.experiment._meta import SCHEMA_VERSION
from automl.experiment._registry import Registry
from automl.experiment._store import META, QUEUED, RUNNING, Experiment
from automl.experiment._summary import model_summary


def default_workspace() -> Path:
    return Path(os.environ.get("AUTOML_WORKSPACE", "workspace"))


class Workspace:
    """A folder of experiment folders."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root else default_workspace()

    def create(self, name: str | None = None, owner: str | None = None, **meta: Any) -> Experiment:
        """A new experiment folder holding its experiment.json, or nothing at all (a disk fault removes it).

        It records the creating process, so an experiment whose creator died before a worker took it over
        reads as failed, never queued forever, and its ``owner``: a signed-in email, ``cli:<user>@<host>`` from a
        command, or by default ``python:<user>@<host>``.
        """
        owner = owner or machine_owner("python")
        exp_id = secrets.token_hex(8)  # 64 random bits: a shared link can't be guessed
        path = self.root / exp_id
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            path.mkdir()
        except OSError as err:
            raise storage_error(err, path, f"a new experiment folder in the workspace '{self.root.name}'") from err
        try:
            write_json(path / ACCESS, Access(owner=owner).to_dict(), make_parent=False)  # before it is listed
            write_json(path / META, {"schema_version": SCHEMA_VERSION, "id": exp_id,
                                     "name": name or f"experiment-{exp_id[:6]}", "created": now_iso(),
                                     "status": QUEUED, "pid": os.getpid(), "host": platform.node(), **meta},
                       make_parent=False)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        record_change(path, owner, "created", f"named '{name or f'experiment-{exp_id[:6]}'}'")
        return Experiment(path)

    def discard(self, exp: Experiment) -> None:
        """Remove an experiment created for nothing (its run never started), whatever its status says."""
        trash = exp.path.with_name(f".deleted-{exp.id}")
        try:
            os.replace(exp.path, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def get(self, exp_id: str, viewer: Viewer | None = None) -> Experiment:
        """The experiment ``exp_id``; one ``viewer`` may not see is "not found" alike (no existence leak)."""
        exp_id = str(exp_id).strip()
        path = self.root / exp_id
        # Ids are 16 hex digits: anything long or odd is refused before it reaches the file system (a
        # 300-character link raised "File name too long"); the message names no server path.
        if (not exp_id or len(exp_id) > 64 or not exp_id.isalnum() or not (path / META).exists()
                or viewer is not None and not read_access(path).rights(viewer).see):
            shown = exp_id if len(exp_id) <= 40 else exp_id[:37] + "..."
            raise ExperimentNotFound(f"There is no experiment '{shown}' in the workspace '{self.root.name}'.",
                                     "Check the link or id, or open the Experiments page to pick one.")
        return Experiment(path)

    def locate(self, ref: str | os.PathLike) -> Experiment:
        """For commands: an id, a folder holding experiment.json (anywhere), or a registry name (its champion).
        Not found: the message names this workspace by full path and how to point at another."""
        return locate(self, ref)

    def list(self, viewer: Viewer | None = None) -> list[Experiment]:
        """Experiments (those ``viewer`` may see, if given), newest first."""
        if not self.root.exists():
            return []
        found = []
        for path in self.root.iterdir():
            if path.name.startswith(".") or not (path / META).exists():
                continue  # a folder being deleted, or removed by hand: never listed, never recreated
            if viewer is not None and not read_access(path).rights(viewer).see:
                continue
            exp = Experiment(path)
            try:
                found.append((exp.record.created or "", exp))
            except (OSError, ValueError):  # removed or unreadable between the check and the read
                continue
        return [exp for _, exp in sorted(found, key=lambda pair: pair[0], reverse=True)]

    def summaries(self, viewer: Viewer | None = None) -> pd.DataFrame:
        """One row per experiment (that ``viewer`` may see): what the Experiments page and ``automl list`` show."""
        rows = []
        try:
            standing = Registry(self).labels()
        except AutoMLError:  # an unreadable registry.json must not hide the experiments; its commands say why
            standing = {}
        for exp in self.list(viewer):
            record, access = exp.record, read_access(exp.path)
            rows.append({
                "id": exp.id, "name": record.name, "status": exp.status, "owner": access.owner,
                "access": access.describe(), "registry": standing.get(exp.id),
                "task": record.task,
                "target": record.target, "metric": record.metric,
                "cv_score": record.best.cv_score if record.best else None, "holdout": record.headline_score,
                "model": model_summary(record).short if record.model or record.best else None,
                "trials": record.timing.trials, "created": record.created, "duration_s": record.timing.elapsed_s,
            })
        return pd.DataFrame(rows, columns=["id", "name", "status", "owner", "access", "registry", "task", "target",
                                           "metric", "cv_score", "holdout", "model", "trials", "created",
                                           "duration_s"])

    def rename(self, exp_id: str, name: str, by: Viewer | None = None) -> None:
        """Rename (owners and admins, when ``by`` is a signed-in viewer); recorded in the audit."""
        name = name.strip()
        if not name:
            raise AutoMLError("An experiment name can't be empty.", "Type a name.")
        exp = self._managed(exp_id, by, "rename it")
        old = exp.record.name
        exp.update(name=name)
        record_change(exp.path, _label(by), "renamed", f"'{old}' to '{name}'")

    def _managed(self, exp_id: str, by: Viewer | None, what: str) -> Experiment:
        """The experiment, if ``by`` may see it (else not found) and manage it (else :class:`AccessDenied`)."""
        exp = self.get(exp_id, by)
        if by is not None:
            require_manage(read_access(exp.path).rights(by), what)
        return exp

    def delete(self, exp_id: str, by: Viewer | None = None) -> None:
        exp = self._managed(exp_id, by, "delete it")
        if exp.status in (RUNNING, QUEUED):
            raise AutoMLError(f"Experiment {exp_id} is still running.", "Cancel it first, then delete it.")
        names = Registry(self).championed_by(exp.id)
        if names:  # serving by name would break: the registry must point elsewhere first
            listed = ", ".join(f"'{n}'" for n in names)
            raise AutoMLError(f"Experiment {exp.id} is the champion of {listed}: serving and predicting by that name "
                              "use it.", f"Promote another experiment to {listed} first, then delete this one.")
        # Rename first so a half-deleted folder is never listed as an experiment.
        trash = exp.path.with_name(f".deleted-{exp.id}")
        try:
            os.replace(exp.path, trash)
        except OSError as err:
            raise storage_error(err, exp.path, f"experiment {exp.id}") from err
        record_change(self.root, _label(by), "deleted", f"experiment {exp.id}")
        shutil.rmtree(trash, ignore_errors=True)


def _label(by: Viewer | None) -> str:
    """Who made a change: the viewer's label, or this machine's user for a command or a Python call."""
    return by.label if by is not None else machine_owner()
