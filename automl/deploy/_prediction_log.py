"""The experiment's prediction log: every row predicted, with when, from where, what went in and came out.

SQLite at ``<experiment>/predictions.db`` in WAL mode, so the REST service can
write while the dashboard and monitoring read. A batch is one transaction of
one ``executemany``; inputs and outputs are JSON objects (one per row), so
the log survives schema changes and stays readable with any SQLite client.
Monitoring reads it back with :func:`read` as its live data.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from automl.errors import AutoMLError
from automl.experiment import Experiment, StorageError, storage_fault

DB_FILE = "predictions.db"
SOURCES = ("batch", "form", "api", "cli")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,   -- UTC, ISO 8601 with microseconds: sorts as text
    source TEXT NOT NULL,
    inputs TEXT NOT NULL,      -- JSON object: column -> value
    outputs TEXT NOT NULL      -- JSON object: prediction, proba_<class>..., errors
);
CREATE INDEX IF NOT EXISTS predictions_timestamp ON predictions (timestamp);
"""


_READY: set[str] = set()  # databases this process has already created / switched to WAL (both persist)


def _connect(experiment: Experiment, shared: bool = False) -> sqlite3.Connection:
    path = str(experiment.file(DB_FILE).resolve())
    conn = sqlite3.connect(path, timeout=30, check_same_thread=not shared)
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable against crashes of the process
    if path not in _READY:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        _READY.add(path)
    return conn


def _stamp(when: Any) -> str:
    """Any date-like value as the log's UTC text form (naive values are taken as UTC)."""
    ts = pd.Timestamp(when)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


def _json_lines(frame: pd.DataFrame) -> list[str]:
    """One JSON object per row (NaN as null, dates as ISO text), via pandas' fast writer."""
    if frame.empty:
        return ["{}"] * len(frame)
    text = frame.reset_index(drop=True).to_json(orient="records", lines=True, date_format="iso",
                                                double_precision=15, default_handler=str)
    return text.rstrip("\n").split("\n")


def append(experiment: Experiment, inputs_frame: pd.DataFrame, outputs_frame: pd.DataFrame,
           source: str = "batch") -> int:
    """Log one row per input row, all with the same timestamp, in one transaction; returns the row count."""
    with closing(LogWriter(experiment)) as writer:
        return writer.append(inputs_frame, outputs_frame, source)


class LogWriter:
    """Appends to one experiment's log over one connection, kept open between calls (thread-safe).

    Opening and closing a WAL database per request costs a checkpoint (an fsync)
    on every close: ~10-20 ms, more than a single-row prediction. A long-running
    writer (the REST service) keeps its connection; each append is still its own
    committed transaction, so a row is in the log when the request returns.
    """

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def append(self, inputs_frame: pd.DataFrame, outputs_frame: pd.DataFrame, source: str = "batch") -> int:
        """See :func:`append`."""
        if source not in SOURCES:
            raise AutoMLError(f"Unknown prediction source '{source}'.", f"Use one of: {', '.join(SOURCES)}.")
        if len(inputs_frame) != len(outputs_frame):
            raise AutoMLError(f"Got {len(inputs_frame)} input rows and {len(outputs_frame)} output rows to log.",
                              "Log the inputs and outputs of the same rows.")
        if not len(inputs_frame):
            return 0
        stamp = _stamp(datetime.now(UTC))
        rows = [(stamp, source, i, o) for i, o in zip(_json_lines(inputs_frame), _json_lines(outputs_frame))]
        db = self.experiment.file(DB_FILE)
        with self._lock:
            if self._conn is not None and not db.exists():  # removed meanwhile: never write to a ghost file
                self._drop()
            new = not db.exists()
            try:
                if self._conn is None:
                    self._conn = _connect(self.experiment, shared=True)
                with self._conn:
                    self._conn.executemany(
                        "INSERT INTO predictions (timestamp, source, inputs, outputs) VALUES (?, ?, ?, ?)", rows)
            except (sqlite3.Error, OSError) as err:
                self._drop()
                if new:  # a log that never held a row is removed, not left as a 0-byte or schema-only file
                    _READY.discard(str(db.resolve()))
                    for path in (db, db.with_name(DB_FILE + "-wal"), db.with_name(DB_FILE + "-shm")):
                        with contextlib.suppress(OSError):  # a read-only folder holds none of them anyway
                            path.unlink(missing_ok=True)
                raise _fault(err, self.experiment) from err
        return len(inputs_frame)

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def _fault(err: BaseException, experiment: Experiment) -> BaseException:
    """A full disk or a read-only workspace as one clear message naming the log; other errors unchanged."""
    if experiment.removed:
        return StorageError(f"The folder of experiment {experiment.id} was removed; nothing can be logged there.",
                            "Predict with an experiment that exists.")
    return storage_fault(err, experiment.file(DB_FILE), f"{experiment.id}/{DB_FILE}") or err


def _where(since: Any, until: Any, source: str | None) -> tuple[str, list[str]]:
    clauses, params = [], []
    if since is not None:
        clauses.append("timestamp >= ?")
        params.append(_stamp(since))
    if until is not None:
        clauses.append("timestamp < ?")
        params.append(_stamp(until))
    if source is not None:
        clauses.append("source = ?")
        params.append(source)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def read(experiment: Experiment, since: Any = None, until: Any = None, source: str | None = None,
         limit: int | None = None) -> pd.DataFrame:
    """Logged rows in order: ``id``, ``timestamp`` (UTC), ``source``, the input columns, then the outputs.

    ``since`` is inclusive and ``until`` exclusive; ``limit`` keeps the latest rows.
    """
    base = ["id", "timestamp", "source"]
    if not experiment.file(DB_FILE).exists():
        return pd.DataFrame(columns=base + ["prediction"])
    where, params = _where(since, until, source)
    query = f"SELECT id, timestamp, source, inputs, outputs FROM predictions{where}"
    if limit is None:
        query += " ORDER BY id"
    else:
        query = f"SELECT * FROM ({query} ORDER BY id DESC LIMIT ?) ORDER BY id"
        params.append(int(limit))
    try:
        with closing(_connect(experiment)) as conn:
            rows = conn.execute(query, params).fetchall()
    except sqlite3.Error as err:  # WAL readers write a shared-memory file: a full or read-only disk stops them
        raise _fault(err, experiment) from err
    if not rows:
        return pd.DataFrame(columns=base + ["prediction"])
    ids, stamps, sources, inputs, outputs = zip(*rows)
    frame = pd.DataFrame({"id": ids, "timestamp": pd.to_datetime(list(stamps), utc=True, format="ISO8601"),
                          "source": sources})
    ins, outs = _parse(inputs), _parse(outputs)
    outs = outs.drop(columns=[c for c in outs.columns if c in ins.columns])
    return pd.concat([frame, ins, outs], axis=1)


def _parse(texts: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame.from_records([json.loads(t) for t in texts])


def count(experiment: Experiment, since: Any = None, until: Any = None, source: str | None = None) -> int:
    """How many rows the log holds (in the window, if given)."""
    if not experiment.file(DB_FILE).exists():
        return 0
    where, params = _where(since, until, source)
    try:
        with closing(_connect(experiment)) as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM predictions{where}", params).fetchone()[0])
    except sqlite3.Error as err:
        raise _fault(err, experiment) from err
