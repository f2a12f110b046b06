"""Read a user's table from CSV, Parquet or Excel, safely.

Why a module of its own: reading is where user files first hurt us (wrong
delimiter, Latin-1 bytes, a 30 GB file, an empty upload), so every failure
here becomes a :class:`DataError` that says what to do.

Large files (from :func:`compact_min_bytes` up) are read through pyarrow with
explicit, compact dtypes (see :mod:`automl.compact_read`): strings with few
distinct values become ``category``, floats ``float32`` where that keeps every
value apart, integers ``int32`` where they fit. Smaller files are read exactly
as before, with pandas.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from automl.data._binary_read import read_excel, read_parquet
from automl.data._coerce import WARNINGS_KEY, coerce_numbers
from automl.data._compact_read import compact_csv, compact_parquet
from automl.data._sniff import TextFormat, check_text, first_ragged_line, ragged_error, sniff_format
from automl.errors import DataError

SUPPORTED = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".xlsx", ".xls")
# An in-memory DataFrame takes a few times the bytes of its CSV; refuse early
# rather than let the machine swap or the OOM killer take the worker. Measured
# (bench/scale.py): a whole fit peaks at ~11x the CSV's bytes and ~32x a Parquet
# file's (dictionary-encoded, compressed); with half the RAM as the budget, the
# factors below keep that peak within the machine's RAM.
CSV_MEMORY_FACTOR = 5.0
PARQUET_MEMORY_FACTOR = 16.0
HEAD_BYTES = 64 * 1024  # what the encoding and delimiter are sniffed from
COMPACT_MIN_MB = 32.0  # from this file size up, read through pyarrow with compact dtypes


def memory_budget_bytes() -> int:
    """Bytes a table may take in memory: ``AUTOML_MEMORY_BUDGET_MB`` or half the RAM."""
    env = os.environ.get("AUTOML_MEMORY_BUDGET_MB")
    if env:
        return int(float(env) * 1024 * 1024)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 1024**3
    return int(total // 2)


def max_file_bytes(suffix: str = ".csv") -> int:
    """The largest file of this kind this machine can take, before trying."""
    factor = PARQUET_MEMORY_FACTOR if suffix in (".parquet", ".pq") else CSV_MEMORY_FACTOR
    return int(memory_budget_bytes() / factor)


def compact_min_bytes() -> int:
    """Files at least this large are read with compact dtypes (``AUTOML_COMPACT_MIN_MB`` overrides)."""
    return int(float(os.environ.get("AUTOML_COMPACT_MIN_MB", COMPACT_MIN_MB)) * 1024 * 1024)


def read_table(source: str | os.PathLike | bytes | BinaryIO, name: str | None = None, *,
               compact: bool | None = None) -> pd.DataFrame:
    """Read CSV/TSV (delimiter and encoding sniffed), Parquet or Excel into a DataFrame.

    ``source`` is a path, raw bytes (an upload) or a binary file object; ``name``
    gives the file name (for its extension) when ``source`` is not a path.
    ``compact``: read through pyarrow with compact dtypes (None: when the file is
    at least :func:`compact_min_bytes` large). Text columns that are numbers but for a few
    words become numbers; what was changed is listed in ``frame.attrs["automl_warnings"]``.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = name or path.name
        if not path.exists():
            raise DataError(f"File '{path}' does not exist.", "Check the path and try again.")
        if path.is_dir():
            raise DataError(f"'{path}' is a folder, not a table.", "Give the path of a CSV, Parquet or Excel file.")
        size = path.stat().st_size
        opener = lambda: open(path, "rb")  # noqa: E731
    else:
        data = source if isinstance(source, bytes) else source.read()
        size = len(data)
        opener = lambda: io.BytesIO(data)  # noqa: E731
        name = name or "upload.csv"
    suffix = Path(name).suffix.lower() or ".csv"
    if suffix not in SUPPORTED:
        raise DataError(
            f"'{name}' has the extension '{suffix}', which is not a table format this tool reads.",
            "Save the table as CSV, Parquet or Excel (.xlsx).",
        )
    if size == 0:
        raise DataError(f"'{name}' is empty (0 bytes).", "Choose a file that contains a header row and data rows.")
    limit = max_file_bytes(suffix)
    if size > limit:
        raise DataError(
            f"'{name}' is {size / 1e9:.1f} GB; this machine can hold a table from a file of at most "
            f"{limit / 1e9:.1f} GB in memory.",
            "Sample the rows (or drop columns) before uploading, or raise AUTOML_MEMORY_BUDGET_MB on a larger machine.",
        )
    if compact is None:
        compact = size >= compact_min_bytes()
    fmt = TextFormat("utf-8")
    with opener() as fh:
        if suffix in (".parquet", ".pq"):
            frame = compact_parquet(fh, name) if compact else read_parquet(fh, name)
        elif suffix in (".xlsx", ".xls"):
            frame = read_excel(fh, name, suffix)
        else:
            head = fh.read(HEAD_BYTES)
            fh.seek(0)
            check_text(head, name)
            fmt = sniff_format(head, complete=len(head) < HEAD_BYTES)
            if compact and not _is_utf8(fmt.encoding):
                # Decoded here, not by pyarrow's transcoding stream: that one once aborted the process
                # ("terminate called without an active exception") on a UTF-16 file.
                utf8 = io.BytesIO(_decode(fh.read(), fmt.encoding).encode("utf-8"))
                frame = compact_csv(utf8, name, "utf-8", fmt.delimiter, fmt.decimal)
            elif compact:  # pyarrow reads the file itself (the raw bytes are never held)
                frame = compact_csv(fh, name, fmt.encoding, fmt.delimiter, fmt.decimal)
            else:
                frame = _read_csv(fh.read(), name, fmt)
    frame = _check_frame(frame, name)
    frame.attrs[WARNINGS_KEY] = coerce_numbers(frame, fmt.decimal, fmt.thousands)
    return frame


def _read_csv(raw: bytes, name: str, fmt: TextFormat) -> pd.DataFrame:
    text = _decode(raw, fmt.encoding)
    del raw
    try:
        frame = pd.read_csv(io.StringIO(text), sep=fmt.delimiter, decimal=fmt.decimal, thousands=fmt.thousands,
                            low_memory=False, engine="c", on_bad_lines="error")
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"'{name}' has no columns.", "Choose a file with a header row and data rows.") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise DataError(f"'{name}' could not be parsed as a table ({exc}).",
                        "Check that every row has the same number of fields, or export the file again as CSV.") from exc
    found = first_ragged_line(text, fmt.delimiter)
    if found or not frame.index.equals(pd.RangeIndex(len(frame))):
        # Data rows had more fields than the header: pandas made the extra leading fields the index.
        raise ragged_error(name, *(found or ("2", "more", "fewer")))
    return frame


def _is_utf8(encoding: str) -> bool:
    return encoding.replace("-", "").replace("_", "").lower().startswith("utf8")


def _decode(raw: bytes, encoding: str) -> str:
    """The text; when a byte after the sniffed head does not decode, the next encoding that reads it all."""
    if encoding in ("utf-16", "utf-32"):
        return raw.decode(encoding, errors="replace")
    for candidate in dict.fromkeys((encoding, "cp1252")):
        try:
            text = raw.decode(candidate)
            return text[1:] if text.startswith("\ufeff") else text
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _check_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DataError(f"'{name}' has a header but no data rows." if frame.shape[1] else f"'{name}' has no columns.",
                        "Choose a file with a header row and at least a few dozen data rows.")
    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise DataError(f"'{name}' has duplicate column names: {duplicated}.", "Give every column a unique name.")
    budget = memory_budget_bytes()
    used = int(frame.memory_usage(deep=False).sum())
    if used > budget:
        raise DataError(f"'{name}' takes {used / 1e9:.1f} GB in memory, over the budget of {budget / 1e9:.1f} GB.",
                        "Sample the rows or drop columns, or raise AUTOML_MEMORY_BUDGET_MB.")
    return frame
