"""Excel and Parquet files, checked before they are expanded.

Why: both are compressed. A 316 KB .xlsx can hold 300 MB of sheet XML, and a small Parquet file millions of
cells, so the file size says little; the zip directory and the Parquet footer say how big the table will be,
and are read first. Parquet columns pandas can't learn from (lists, structs, maps) are refused by name.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import zipfile
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from automl.errors import DataError

MAX_CELLS = 100_000_000  # rows x columns of an Excel or Parquet table (AUTOML_MAX_CELLS overrides)
DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+:([A-Z]+)(\d+)"')  # a sheet's declared extent, near its start
EXCEL_MAX_XML_BYTES = 100 * 1024 * 1024  # a sheet's XML takes ~50-100 bytes a cell; calamine reads 100 MB in ~5 s
EXCEL_MAX_RATIO = 200  # no honest workbook compresses better than this


def max_cells() -> int:
    return int(float(os.environ.get("AUTOML_MAX_CELLS", MAX_CELLS)))


def read_excel(fh: BinaryIO, name: str, suffix: str) -> pd.DataFrame:
    """The first sheet; an .xlsx whose unpacked size is out of bounds is refused before parsing."""
    data = fh.read()
    if suffix == ".xlsx":
        check_xlsx_size(data, name)
    # calamine (Rust) reads .xls, and .xlsx about 4x faster than openpyxl with the same dtypes
    engine = "calamine" if suffix == ".xls" or importlib.util.find_spec("python_calamine") else None
    try:
        return pd.read_excel(io.BytesIO(data), sheet_name=0, engine=engine)
    except ImportError as exc:
        raise DataError(f"'{name}' is an old .xls workbook, and the reader for it (python-calamine) is missing.",
                        "Install python-calamine, or save the workbook as .xlsx or CSV.") from exc
    except Exception as exc:
        raise DataError(f"'{name}' could not be read as Excel ({type(exc).__name__}: {exc}).",
                        "Open it in a spreadsheet program and save it as .xlsx or CSV.") from exc


def check_xlsx_size(data: bytes, name: str) -> None:
    """Refuse a workbook whose members unpack to more than the bounds, or whose first sheet declares more cells
    than :func:`max_cells` (read from the zip directory and the sheet's first bytes only)."""
    declared = None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            sheets = sorted(m.filename for m in members if m.filename.startswith("xl/worksheets/sheet"))
            if sheets:
                with archive.open(sheets[0]) as sheet:
                    declared = DIMENSION.search(sheet.read(4096))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise DataError(f"'{name}' is not a valid .xlsx file (it is not a readable zip archive: {exc}).",
                        "Open it in a spreadsheet program and save it as .xlsx or CSV.") from exc
    unpacked = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    if unpacked > EXCEL_MAX_XML_BYTES or (unpacked > 10 * 1024 * 1024 and unpacked / packed > EXCEL_MAX_RATIO):
        raise DataError(f"'{name}' unpacks to {unpacked / 1e6:,.0f} MB of sheet data ({unpacked / packed:,.0f} times "
                        f"its size); the limit is {EXCEL_MAX_XML_BYTES / 1e6:,.0f} MB.",
                        "Save the sheet as CSV (or Parquet) and upload that, or drop empty or formatted rows.")
    if declared:
        columns = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(declared.group(1).decode())))
        cells = columns * int(declared.group(2))
        if cells > max_cells():
            raise DataError(f"'{name}' declares a sheet of {int(declared.group(2)):,} rows x {columns:,} columns "
                            f"= {cells:,} cells; the limit is {max_cells():,}.",
                            "Save the sheet as CSV (or Parquet) and upload that, or drop empty rows and columns.")


def parquet_schema(fh: BinaryIO, name: str) -> pa.Schema:
    """The file's schema, after checking its size from the footer and refusing nested columns by name."""
    try:
        meta = pq.ParquetFile(fh).metadata
        schema = meta.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise DataError(f"'{name}' could not be read as Parquet ({type(exc).__name__}: {exc}).",
                        "Check that the file is a valid Parquet file, or export it as CSV.") from exc
    fh.seek(0)
    cells = meta.num_rows * max(len(schema), 1)
    if cells > max_cells():
        raise DataError(f"'{name}' holds {meta.num_rows:,} rows x {len(schema):,} columns = {cells:,} cells; "
                        f"the limit is {max_cells():,}.", "Sample the rows or drop columns before uploading.")
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise DataError(f"'{name}' has nested columns (lists, structs or maps), which can't be features: "
                        f"{', '.join(map(repr, nested[:10]))}{' …' if len(nested) > 10 else ''}.",
                        "Flatten them into plain columns (one value per cell), or drop them, and save again.")
    return schema


def decode_binary_columns(table: pa.Table, name: str) -> pa.Table:
    """Binary columns as text when every value is UTF-8, else refused by name."""
    for i, field in enumerate(table.schema):
        if not (pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)
                or pa.types.is_fixed_size_binary(field.type)):
            continue
        try:
            column = table.column(i).cast(pa.binary()).cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DataError(f"'{name}' has the binary column '{field.name}', whose bytes are not text (UTF-8).",
                            "Drop that column, or store it as text, and save again.") from exc
        table = table.set_column(i, field.name, column)
    return table


def read_parquet(fh: BinaryIO, name: str) -> pd.DataFrame:
    """Read a (checked) Parquet file with pandas' usual dtypes."""
    parquet_schema(fh, name)
    try:
        table = pq.read_table(fh)
    except Exception as exc:
        raise DataError(f"'{name}' could not be read as Parquet ({type(exc).__name__}: {exc}).",
                        "Check that the file is a valid Parquet file, or export it as CSV.") from exc
    return decode_binary_columns(table, name).to_pandas()
