"""Large tables through pyarrow, with explicit compact dtypes.

A million-row CSV read by pandas holds every string as a Python object and
every number as float64. Here pyarrow parses the file (multi-threaded,
straight from the path, no copy of the raw bytes), then each column gets the
smallest dtype that keeps its values:

* strings with few distinct values (at most half the rows) -> ``category``;
* floats -> ``float32`` when the range fits and a sample's distinct values stay
  distinct (integers above 2**24, timestamps in seconds and the like stay float64);
* integers -> ``int32`` when they fit comfortably;
* dates and times stay strings, as pandas reads them, so schema inference
  decides about them exactly as for small files.

The Arrow table is converted with ``self_destruct``, so its buffers are freed
column by column instead of the table existing twice.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from automl.data._binary_read import decode_binary_columns, parquet_schema
from automl.errors import DataError

# pandas' default missing-value strings, so both readers agree on what is missing.
NA_VALUES = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
             "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]
CATEGORY_MAX_SHARE = 0.5  # a string column becomes category when distinct values <= this share of rows
FLOAT32_CHECK_ROWS = 200_000
INT32_LIMIT = 2**30  # leave headroom so differences of two values still fit


def compact_csv(fh: BinaryIO, name: str, encoding: str, delimiter: str, decimal: str = ".") -> pd.DataFrame:
    """Parse a CSV with pyarrow (types inferred on the whole file), then compact the columns."""
    read = pa_csv.ReadOptions(encoding="utf8" if encoding.replace("-", "").lower().startswith("utf8") else encoding)
    parse = pa_csv.ParseOptions(delimiter=delimiter)
    convert = pa_csv.ConvertOptions(null_values=NA_VALUES, strings_can_be_null=True, quoted_strings_can_be_null=True,
                                    column_types=_dates_as_strings(fh, read, parse), decimal_point=decimal)
    try:
        table = pa_csv.read_csv(fh, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise DataError(f"'{name}' could not be parsed as a table ({exc}).",
                        "Check that every row has the same number of fields, or export the file again as CSV.") from exc
    return to_compact_frame(table)


def compact_parquet(fh: BinaryIO, name: str) -> pd.DataFrame:
    """Read Parquet with string columns as dictionaries (no per-row strings), then compact the columns."""
    schema = parquet_schema(fh, name)  # size and nested columns checked from the footer first
    try:
        strings = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        table = pq.read_table(fh, read_dictionary=strings)
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise DataError(f"'{name}' could not be read as Parquet ({type(exc).__name__}: {exc}).",
                        "Check that the file is a valid Parquet file, or export it as CSV.") from exc
    return to_compact_frame(decode_binary_columns(table, name))


def _dates_as_strings(fh: BinaryIO, read: pa_csv.ReadOptions, parse: pa_csv.ParseOptions) -> dict[str, pa.DataType]:
    """Columns pyarrow would parse as dates/times in the first block: keep them as text."""
    start = fh.tell()
    try:
        reader = pa_csv.open_csv(fh, read_options=read, parse_options=parse,
                                 convert_options=pa_csv.ConvertOptions(null_values=NA_VALUES))
        types = {f.name: pa.string() for f in reader.schema if pa.types.is_temporal(f.type)}
        reader.close()
    except (pa.ArrowInvalid, UnicodeDecodeError):
        types = {}  # the full read reports the problem
    fh.seek(start)
    return types


def to_compact_frame(table: pa.Table) -> pd.DataFrame:
    """The smallest dtypes that keep the values (see the module docstring), as a pandas frame."""
    for i, field in enumerate(table.schema):
        column = table.column(i)
        compacted = _compact_column(column, field.type, table.num_rows)
        if compacted is not column:
            table = table.set_column(i, field.name, compacted)
    del column, compacted
    return table.to_pandas(self_destruct=True, split_blocks=True)


def _compact_column(column: pa.ChunkedArray, kind: pa.DataType, n_rows: int) -> pa.ChunkedArray:
    if pa.types.is_dictionary(kind):
        present = n_rows - column.null_count
        values = pa.chunked_array([c.dictionary for c in column.chunks], type=kind.value_type)
        if not present or len(pc.unique(values)) <= CATEGORY_MAX_SHARE * present:
            return column  # (dictionaries may hold a few unused values: an upper bound is enough)
        return column.cast(kind.value_type)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        present = n_rows - column.null_count
        if present and pc.count_distinct(column).as_py() <= CATEGORY_MAX_SHARE * present:
            return column.dictionary_encode()
        return column
    if pa.types.is_temporal(kind):
        return column.cast(pa.string())
    if pa.types.is_float64(kind) and _float32_keeps_values(column):
        return column.cast(pa.float32())
    if pa.types.is_int64(kind):
        low, high = pc.min_max(column).values()
        if low.as_py() is not None and -INT32_LIMIT < low.as_py() and high.as_py() < INT32_LIMIT:
            return column.cast(pa.int32())
    return column


def _float32_keeps_values(column: pa.ChunkedArray) -> bool:
    """float32 when the range fits and a sample's distinct values stay distinct (and integers exact)."""
    low, high = (v.as_py() for v in pc.min_max(column).values())
    if low is None:
        return True
    if not (np.isfinite(low) and np.isfinite(high)) or max(abs(low), abs(high)) >= 1e37:
        return False
    if len(column) > FLOAT32_CHECK_ROWS:
        column = column.take(np.random.default_rng(0).choice(len(column), FLOAT32_CHECK_ROWS, replace=False))
    values = column.to_numpy()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return True
    if np.all(values == np.round(values)) and max(abs(low), abs(high)) > 2**24:
        return False  # large integers stored as floats (ids, counts): float32 would round them
    tiny = values[values != 0]
    if tiny.size and np.abs(tiny).min() < 1e-30:
        return False
    return len(np.unique(values.astype(np.float32))) == len(np.unique(values))
