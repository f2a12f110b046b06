"""A small model registry: a name (``churn``) has a champion experiment, and a history of who made it so.

The truth is one file, ``<workspace>/registry.json``: name → ordered events ``{experiment, by, at, figures,
action, replaces}``; the champion is the last event's experiment. Every change reads, edits and atomically
rewrites the file under an exclusive lock (``.registry.lock``), so two processes promoting at once both land.
Readers take no lock: the rename leaves them the old file or the new one.
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.errors import AutoMLError
from automl.experiment._audit import record_change
from automl.experiment._files import now_iso, storage_error, write_json
from automl.experiment._store import COMPLETED, META, Experiment, ExperimentGone

if TYPE_CHECKING:
    from automl.experiment._workspace import Workspace

REGISTRY = "registry.json"
LOCK = ".registry.lock"  # a dot-name: never listed as an experiment
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
EXPERIMENT_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class Standing:
    """Where one experiment stands under a name: the champion, or superseded (by which one, when, by whom)."""

    name: str
    champion: str
    is_champion: bool
    superseded_by: str | None = None
    at: str | None = None
    by: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)


def check_name(name: str) -> str:
    """A registry name, stripped; refused unless short and made of letters, digits, ``_ . -``."""
    name = str(name).strip()
    if not NAME.fullmatch(name):
        shown = name if len(name) <= 40 else name[:37] + "..."
        raise AutoMLError(f"The registry name must be 1 to 64 letters, digits, '_', '.' or '-', starting with a "
                          f"letter or digit. Got '{shown}' instead.", "Use a short name such as 'churn' or 'churn-v2'.")
    if EXPERIMENT_ID.fullmatch(name):
        raise AutoMLError(f"'{name}' looks like an experiment id, so it could not be told apart from one.",
                          "Use a word such as 'churn'.")
    return name


def headline_figures(champion: Experiment | None, challenger: Experiment) -> dict[str, Any]:
    """The held-out headline scores a promotion is judged on (the same rows when retrained from the champion)."""
    if champion is None:  # a first champion: its own score
        return {"metric": challenger.record.metric, "score": challenger.record.headline_score}
    figures: dict[str, Any] = {"metric": challenger.record.metric, "challenger": challenger.record.headline_score}
    if not champion.removed:
        figures["champion"] = champion.record.headline_score
    return figures


class Registry:
    """Names → champion experiments of one workspace (see the module docstring)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.root = Path(workspace.root)
        self.path = self.root / REGISTRY

    # -- reading ----------------------------------------------------------
    def _entries(self) -> dict[str, list[dict[str, Any]]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            raise AutoMLError(f"The model registry of the workspace '{self.root.name}' can't be read ({err}).",
                              f"Restore {REGISTRY} from a backup, or remove it to start the registry afresh.") from err
        return {name: list(events) for name, events in (data.get("names") or {}).items() if events}

    def names(self) -> dict[str, str]:
        """Every registered name → its champion's id."""
        return {name: events[-1]["experiment"] for name, events in sorted(self._entries().items())}

    def champion(self, name: str) -> str | None:
        events = self._entries().get(str(name).strip())
        return events[-1]["experiment"] if events else None

    def history(self, name: str) -> list[dict[str, Any]]:
        """The events of ``name``, oldest first (register, then each promotion)."""
        return [dict(event) for event in self._entries().get(str(name).strip(), [])]

    def standing(self, exp_id: str) -> Standing | None:
        """Where ``exp_id`` stands: champion of a name (first such name), else superseded under the name it
        left most recently; None if it was never registered."""
        found = [standing for name, events in sorted(self._entries().items())
                 if (standing := _standing(name, events, exp_id)) is not None]
        if not found:
            return None
        champions = [s for s in found if s.is_champion]
        return champions[0] if champions else max(found, key=lambda s: s.at or "")

    def labels(self) -> dict[str, str]:
        """Experiment id → "champion of churn" / "superseded by <id> (churn)": the registry column of lists."""
        out: dict[str, str] = {}
        entries = self._entries()
        for exp_id in {e["experiment"] for events in entries.values() for e in events}:
            found = [s for name, events in sorted(entries.items()) if (s := _standing(name, events, exp_id))]
            champion = [s for s in found if s.is_champion]
            if champion:
                out[exp_id] = "champion of " + ", ".join(s.name for s in champion)
            else:
                last = max(found, key=lambda s: s.at or "")
                out[exp_id] = f"superseded by {last.superseded_by} ({last.name})"
        return out

    def free_name(self, exp: Experiment) -> str:
        """A name not yet registered, from the experiment's display name (other characters become '-'; -2, -3
        … if taken): for registering an experiment the user never named in the registry."""
        base = "-".join(p for p in re.split(r"[^A-Za-z0-9_.-]+", exp.name) if p).lstrip("._-")[:56]
        if not NAME.fullmatch(base) or EXPERIMENT_ID.fullmatch(base):
            base = f"model-{exp.id[:6]}"
        taken = self.names()
        return next(n for n in (base, *(f"{base}-{i}" for i in range(2, 10_000))) if n not in taken)

    figures = staticmethod(headline_figures)

    def championed_by(self, exp_id: str) -> list[str]:
        """The names whose champion is ``exp_id``."""
        return [name for name, champion in self.names().items() if champion == exp_id]

    # -- changing ---------------------------------------------------------
    def register(self, name: str, exp: Experiment | str, by: str | None = None) -> None:
        """Create ``name`` with ``exp`` as its first champion."""
        name = check_name(name)
        exp = self._servable(exp)
        with self._locked() as entries:
            if name in entries:
                current = entries[name][-1]["experiment"]
                raise AutoMLError(f"The name '{name}' is already registered (champion: {current}).",
                                  f"Promote the experiment instead: automl promote {exp.id} --name {name}.")
            entries[name] = [_event(exp.id, by, "register", None, headline_figures(None, exp))]
        record_change(exp.path, by, "registered", f"first champion of '{name}'")

    def promote(self, name: str, challenger: Experiment | str, by: str | None = None,
                figures: dict[str, Any] | None = None) -> None:
        """Make ``challenger`` the champion of ``name``. Both experiments keep their files; the lineage fields
        (promoted / replaces, superseded_by / superseded) are written into their experiment.json too."""
        name = check_name(name)
        challenger = self._servable(challenger)
        when = now_iso()
        with self._locked() as entries:
            if name not in entries:
                raise AutoMLError(f"No model is registered under the name '{name}'.",
                                  f"Register it first: automl register {challenger.id} {name}.")
            old_id = entries[name][-1]["experiment"]
            if old_id == challenger.id:
                raise AutoMLError(f"Experiment {challenger.id} is already the champion of '{name}'.", None)
            old = Experiment(self.root / old_id)
            _check_same_problem(name, old, challenger)
            figures = headline_figures(old, challenger) if figures is None else dict(figures)
            entries[name].append(_event(challenger.id, by, "promote", old_id, figures, when))
        challenger.update(promoted=when, replaces=old_id, superseded_by=None, superseded=None)
        record_change(challenger.path, by, "promoted", f"champion of '{name}', replacing {old_id}")
        try:
            old.update(superseded_by=challenger.id, superseded=when)
        except ExperimentGone:
            return  # its folder was removed by hand: the registry still says what happened
        record_change(old.path, by, "superseded", f"by {challenger.id} as champion of '{name}'")

    def _servable(self, exp: Experiment | str) -> Experiment:
        exp = Experiment(self.root / exp) if isinstance(exp, str) else exp
        if exp.path.resolve().parent != self.root.resolve():
            raise AutoMLError(f"Experiment {exp.id} is not in the workspace '{self.root.name}', so its registry "
                              "can't name it.", "Use --workspace (or AUTOML_WORKSPACE) of the folder that holds it.")
        if not (exp.path / META).exists():
            raise AutoMLError(f"There is no experiment '{exp.id}' in the workspace '{self.root.name}'.",
                              "Pick an id from the list of experiments.")
        if exp.status != COMPLETED or not exp.has_model:
            raise AutoMLError(f"Experiment {exp.id} is {exp.status} without a model to serve, so it can't be a "
                              "champion.", "Register or promote a completed experiment.")
        return exp

    @contextmanager
    def _locked(self) -> Iterator[dict[str, list[dict[str, Any]]]]:
        """The entries to edit, read and written back under the workspace's registry lock."""
        try:
            handle = open(self.root / LOCK, "a+b")
        except OSError as err:
            what = f"the registry lock of the workspace '{self.root.name}'"
            raise storage_error(err, self.root / LOCK, what) from err
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the handle closes, also if this process dies
            entries = self._entries()
            yield entries
            write_json(self.path, {"schema_version": 1, "names": entries}, make_parent=False)


def _event(exp_id: str, by: str | None, action: str, replaces: str | None, figures: dict[str, Any],
           at: str | None = None) -> dict[str, Any]:
    return {"experiment": exp_id, "by": by, "at": at or now_iso(), "action": action, "replaces": replaces,
            "figures": figures}


def _standing(name: str, events: list[dict[str, Any]], exp_id: str) -> Standing | None:
    last = max((i for i, e in enumerate(events) if e["experiment"] == exp_id), default=None)
    if last is None:
        return None
    champion = events[-1]["experiment"]
    if last == len(events) - 1:
        event = events[last]
        return Standing(name, champion, True, None, event.get("at"), event.get("by"), dict(event.get("figures") or {}))
    nxt = events[last + 1]
    return Standing(name, champion, False, nxt["experiment"], nxt.get("at"), nxt.get("by"),
                    dict(nxt.get("figures") or {}))


def _check_same_problem(name: str, old: Experiment, new: Experiment) -> None:
    """Clients of a name send the same columns and expect the same kind of answer: same target and task."""
    if old.removed:
        return
    a, b = old.record, new.record
    if (a.target, a.task) != (b.target, b.task):
        raise AutoMLError(f"'{name}' predicts '{a.target}' ({a.task}); experiment {new.id} predicts '{b.target}' "
                          f"({b.task}), so it can't replace the champion.", "Register it under another name.")
