"""The audit trail: one line per change to an experiment (who, what, when), kept in the experiment.

``audit.jsonl`` is appended to, never rewritten: each line is one ``write`` on a file opened for appending,
so two processes adding lines at once both land and a reader never sees a line half written. A deletion is
recorded in the workspace's own ``audit.jsonl``, since the experiment's folder goes with it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from automl.experiment._files import now_iso

AUDIT = "audit.jsonl"
MAX_DETAIL = 300  # a line stays well under the size an append writes at once


@dataclass(frozen=True)
class Change:
    at: str
    by: str
    what: str
    detail: str = ""


def record_change(folder: Path, by: str | None, what: str, detail: str = "") -> None:
    """Append one line to ``folder``'s audit trail. A folder removed meanwhile records nothing (and is never
    recreated); a disk fault is not the change's business, so it is not raised either."""
    line = json.dumps({"at": now_iso(), "by": str(by or "unknown")[:120], "what": what,
                       "detail": str(detail)[:MAX_DETAIL]}) + "\n"
    try:
        fd = os.open(Path(folder) / AUDIT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        return
    try:
        os.write(fd, line.encode())
    except OSError:
        pass
    finally:
        os.close(fd)


def read_changes(folder: Path, last: int | None = None) -> list[Change]:
    """The changes, oldest first (the ``last`` ones only, if given); an unreadable line is skipped."""
    try:
        lines = (Path(folder) / AUDIT).read_text(errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines[-last:] if last else lines:
        try:
            item = json.loads(line)
            out.append(Change(str(item["at"]), str(item["by"]), str(item["what"]), str(item.get("detail", ""))))
        except (ValueError, KeyError, TypeError):
            continue
    return out
