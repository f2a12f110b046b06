"""Find the experiment a user means: an id in the workspace, a folder holding experiment.json, or a registry name.

For commands run in a terminal: ``automl fit`` prints a folder, and that folder (relative or absolute, inside
the workspace or not) must work wherever an id does; a name follows its champion. The not-found message names
the workspace looked in, by full path, and how to point at another one. (The dashboard's
:meth:`Workspace.get` stays id-only and never shows a server path.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from automl.errors import ExperimentNotFound
from automl.experiment._registry import NAME, Registry
from automl.experiment._store import META, Experiment

if TYPE_CHECKING:
    from automl.experiment._workspace import Workspace

POINT_ELSEWHERE = "pass --workspace PATH or set AUTOML_WORKSPACE=PATH"


def locate(workspace: Workspace, ref: str | os.PathLike) -> Experiment:
    """The experiment ``ref`` names: an id, then a folder path, then a registered name (→ its champion)."""
    text = str(ref).strip()
    root = Path(workspace.root)
    if text and len(text) <= 64 and text.isalnum() and (root / text / META).is_file():
        return Experiment(root / text)
    path = Path(text).expanduser() if text else None
    if path is not None and path.name == META and path.is_file():
        path = path.parent  # the experiment.json itself: its folder
    if path is not None and (path / META).is_file():
        return Experiment(path.resolve())
    if NAME.fullmatch(text):
        champion = Registry(workspace).champion(text)
        if champion is not None:
            if (root / champion / META).is_file():
                return Experiment(root / champion)
            raise ExperimentNotFound(f"The champion of '{text}', experiment {champion}, is no longer in the "
                                     f"workspace {root.resolve()}.",
                                     f"Promote another experiment: automl promote OTHER_ID --name {text}.")
    raise not_found(workspace, text)


def not_found(workspace: Workspace, text: str) -> ExperimentNotFound:
    """Why nothing matched, naming the workspace looked in and how to look elsewhere."""
    shown = text if len(text) <= 80 else text[:77] + "..."
    where = Path(workspace.root).resolve()
    path = Path(shown).expanduser()
    looks_like_path = os.sep in text or text.startswith(".") or text.startswith("~")
    if looks_like_path and path.is_dir():
        problem = f"The folder '{shown}' holds no {META}, so it is not an experiment folder."
    elif looks_like_path:
        problem = f"There is no folder '{shown}' (and no experiment of that name in the workspace {where})."
    else:
        count = sum(1 for p in where.iterdir() if (p / META).is_file()) if where.is_dir() else 0
        held = "does not exist" if not where.is_dir() else f"holds {count} experiment{'s' * (count != 1)}"
        problem = (f"There is no experiment, experiment folder or registered name '{shown}' in the workspace "
                   f"{where} (it {held}).")
    return ExperimentNotFound(problem, f"Give an id from `automl list`, the folder `automl fit` printed, or a "
                                       f"registered name; for another workspace, {POINT_ELSEWHERE}.")
