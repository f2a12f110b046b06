"""Files an experiment folder is made of: atomic writes, JSON, and the model file's fingerprint.

Every write goes to a temporary file first and is renamed into place, so a
reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from automl.errors import AutoMLError


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes, make_parent: bool = True) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half.

    A disk or permission fault raises :class:`StorageError` and leaves the old file as it was.
    """
    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write_with(path, write, make_parent=make_parent)


def atomic_write_with(path: Path, writer: Callable[[Path], None], make_parent: bool = True) -> None:
    """Let ``writer`` write a temporary file (e.g. joblib, parquet), then rename it into place.

    ``make_parent=False`` for files of an experiment folder: a folder removed underneath a running
    search must stay removed, not come back holding one progress file.
    """
    tmp = None
    try:
        if make_parent:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
        os.close(fd)
        writer(Path(tmp))
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise storage_error(err, path) from err
        raise


class StorageError(AutoMLError):
    """A disk or permission fault (full, read-only, no access, name too long, folder gone), worded for the user."""


_FAULTS = {
    errno.ENOSPC: ("There is no space left on the disk to write {what}.",
                   "Free space on the workspace's disk (delete old experiments or files), then try again."),
    errno.EDQUOT: ("The disk quota is used up: {what} can't be written.",
                   "Free space in the workspace (delete old experiments), then try again."),
    errno.EROFS: ("The workspace is read-only: {what} can't be written.",
                  "Use a writable workspace (--workspace or AUTOML_WORKSPACE), or mount it read-write."),
    errno.EACCES: ("No permission to write {what}.",
                   "Give the user running automl write access to the workspace, or use another --workspace."),
    errno.ENAMETOOLONG: ("The file name is too long: {what}.", "Use a shorter name."),
    errno.ENOENT: ("The folder of {what} no longer exists: it was removed.",
                   "Don't remove an experiment's folder while it is in use; start it again."),
}
_FAULTS[errno.EPERM] = _FAULTS[errno.EACCES]


def storage_error(err: OSError, path: Path | str, what: str | None = None) -> StorageError:
    """One clear message for a failed write, naming the file relative to the workspace (never a server path)."""
    what = what or shown_path(Path(path))
    problem, fix = _FAULTS.get(err.errno, ("{what} could not be written ({reason}).",
                                           "Check the workspace's disk and permissions, then try again."))
    return StorageError(problem.format(what=what, reason=err.strerror or type(err).__name__), fix)


def shown_path(path: Path) -> str:
    """``<experiment id>/<file>`` when ``path`` is inside an experiment folder, else the file name alone."""
    name = path.name if len(path.name) <= 60 else path.name[:57] + "..."
    for level, folder in enumerate(list(path.parents)[:3]):
        if (folder / "experiment.json").exists():
            inner = Path(*path.parts[len(path.parts) - level - 1:-1], name)
            return f"{folder.name}/{inner.as_posix()}"
    return name


def write_json(path: Path, data: Any, make_parent: bool = True) -> None:
    atomic_write_bytes(path, json.dumps(data, indent=2, default=_json_default).encode(), make_parent=make_parent)


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


def file_version(path: Path) -> tuple[int, int, int, int]:
    """Changes whenever ``path`` is rewritten. Every write here renames a new file into place, so the inode
    changes too: two writes within one tick of the file system's clock still differ."""
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def fingerprint(path: Path) -> str:
    """Size and modification time of a model file: cheap (no hashing of a large file) and it changes whenever
    the file is rewritten (refit, new threshold), so caches keyed by it go stale exactly then. The format is
    the one explain and export caches already store, so their cached files stay valid."""
    stat = path.stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


_SQLITE_FAULTS = ("disk is full", "readonly database", "unable to open database", "disk i/o error")


def storage_fault(err: BaseException, path: Path | str, what: str | None = None) -> StorageError | None:
    """The disk or permission fault behind ``err`` (an OSError, or SQLite's words for one, anywhere in its chain
    of causes) as a :class:`StorageError` about ``path``; None if the cause is something else."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, StorageError):
            return err
        if isinstance(err, OSError) and err.errno in _FAULTS:
            return storage_error(err, path, what)
        text = str(err).lower()
        if "sqlite" in type(err).__module__ + text and any(words in text for words in _SQLITE_FAULTS):
            code = _disk_state(Path(path))
            return storage_error(OSError(code, os.strerror(code)), path, what)
        err = err.__cause__ or err.__context__
    return None


def _disk_state(path: Path) -> int:
    """What SQLite's vaguer errors ("unable to open", "disk I/O error") mean here: the folder's disk, asked."""
    folder = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if folder is None or folder != path and folder != path.parent:
        return errno.ENOENT
    stats = os.statvfs(folder)
    if stats.f_flag & os.ST_RDONLY:
        return errno.EROFS
    if stats.f_bavail * stats.f_frsize < 1 << 20:  # under 1 MB free: SQLite could not grow its file or journal
        return errno.ENOSPC
    return errno.EACCES if not os.access(folder, os.W_OK) else errno.EIO
