"""Files an experiment folder is made of: atomic writes, JSON, and the model file's fingerprint.

Every write goes to a temporary file first and is renamed into place, so a
reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


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
