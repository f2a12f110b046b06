"""How a text table is written: its encoding, delimiter, decimal mark and thousands separator.

Why a module of its own: guessing these wrong does not fail, it trains a poor model in silence (a semicolon
CSV with decimal commas read as text columns; UTF-16 from Excel read as cp1252). Each guess here is made from
the first ~64 KB and is checked against the rows it was made from.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass

from automl.errors import DataError

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_LINES = 200
# Numbers as people write them: 1,23 (decimal comma), 1.234,5 / 1,234.5 (thousands separators).
DECIMAL_COMMA = re.compile(r"[+-]?(\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(\.\d{3})+,\d+|0,\d+)")
THOUSANDS_COMMA = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
THOUSANDS_DOT = re.compile(r"[+-]?\d{1,3}(\.\d{3})+(,\d+)?")
DECIMAL_POINT = re.compile(r"[+-]?(\d*\.\d{1,2}|\d*\.\d{4,}|0\.\d+)")


@dataclass(frozen=True)
class TextFormat:
    """What :func:`sniff_format` found: passed to the CSV readers as is."""

    encoding: str
    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark names (Excel's "Unicode text" is UTF-16 with one), else None."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    return None


def check_text(head: bytes, name: str) -> None:
    """Refuse a binary file (NUL bytes without a UTF-16/32 mark)."""
    if b"\x00" in head and bom_encoding(head) not in ("utf-16", "utf-32"):
        raise DataError(f"'{name}' looks like a binary file, not a text table.",
                        "Upload a CSV, Parquet or Excel file (or save the text as UTF-8 or UTF-16).")


def sniff_encoding(head: bytes, complete: bool = True) -> str:
    """The BOM's encoding, else the first of :data:`ENCODINGS` that decodes ``head``; a multi-byte
    character cut at the end of an incomplete head is not held against UTF-8."""
    marked = bom_encoding(head)
    if marked:
        return marked
    for encoding in ENCODINGS:
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=complete)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def decode_head(head: bytes, encoding: str) -> str:
    """The head as text, a character cut at its end dropped."""
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def sample_rows(text: str, delimiter: str) -> list[list[str]]:
    """The first rows of ``text`` split by ``delimiter`` (quotes honoured); the last line may be cut: dropped."""
    lines = text.splitlines()[:SAMPLE_LINES + 1]
    if len(lines) > SAMPLE_LINES:
        lines = lines[:SAMPLE_LINES]
    try:
        return [row for row in csv.reader(lines, delimiter=delimiter) if row]
    except csv.Error:
        return []


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header and most rows into the same number (> 1) of fields.

    ``csv.Sniffer`` picks the comma in ``a;b`` / ``1,5;2,5`` (decimal commas); counting fields per row does not.
    """
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        rows = sample_rows(text, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        score = sum(len(r) == width for r in body) / len(body) + 0.001 * min(width, 100)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def sniff_numbers(rows: list[list[str]]) -> tuple[str, str | None]:
    """(decimal mark, thousands separator) from the number-like cells of the sampled rows."""
    cells = [c.strip() for row in rows[1:] for c in row]
    cells = [c for c in cells if c and c[-1].isdigit() and len(c) < 40]
    comma_decimals = sum(bool(DECIMAL_COMMA.fullmatch(c)) for c in cells)
    point_decimals = sum(bool(DECIMAL_POINT.fullmatch(c)) for c in cells)
    if comma_decimals > point_decimals:
        return ",", "." if any(THOUSANDS_DOT.fullmatch(c) and "." in c for c in cells) else None
    has_comma_thousands = any(THOUSANDS_COMMA.fullmatch(c) and "," in c for c in cells)
    return ".", "," if has_comma_thousands and comma_decimals == 0 else None


def sniff_format(head: bytes, complete: bool) -> TextFormat:
    """Encoding, delimiter, decimal mark and thousands separator of a text table, from its first bytes."""
    encoding = sniff_encoding(head, complete)
    text = decode_head(head, encoding)
    delimiter = sniff_delimiter(text)
    decimal, thousands = sniff_numbers(sample_rows(text, delimiter))
    return TextFormat(encoding, delimiter, decimal, thousands)


def first_ragged_line(text: str, delimiter: str) -> tuple[int, int, int] | None:
    """(line number, fields, header fields) of the first sampled row with more fields than the header."""
    rows = sample_rows(text, delimiter)
    if not rows:
        return None
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > width:
            return number, len(row), width
    return None


def ragged_error(name: str, line: int | str, fields: int | str, width: int | str) -> DataError:
    return DataError(f"'{name}' has a row with more fields than its header: line {line} has {fields} fields, "
                     f"the header {width}. Read as is, every column after it would be shifted.",
                     "Fix that row (an unquoted delimiter inside a value, or a missing header name), "
                     "or export the file again as CSV.")
