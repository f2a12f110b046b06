"""The body of ``POST /predict``: three forms accepted, and a readable answer for anything else.

Accepted: a JSON list of records, ``{"records": [...]}``, or one record (an
object with the model's columns). A record is an object column -> value, every
column present (``null`` = missing value). The pydantic model of a record is
generated from the experiment's schema, so ``/docs`` lists every column with
its type and allowed values; its errors are turned into one sentence per
problem ("record 1: column 'Fare' is missing") instead of pydantic's dump.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from automl.data import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, ColumnInfo, Schema

FORMS = ('a JSON list of records: [{"column": value, ...}, ...]', 'an object {"records": [...]} of that list',
         'one record: {"column": value, ...}')
MAX_PROBLEMS = 10  # named in the message; all are in "detail"


class BodyError(Exception):
    """A request body the service refuses: HTTP status and a JSON answer."""

    def __init__(self, status: int, message: str, detail: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.answer = status, {"error": message, "accepted": list(FORMS)}
        if detail is not None:
            self.answer["detail"] = detail


def record_model(schema: Schema) -> type[BaseModel]:
    """The pydantic model of one row: every feature column required (null = missing value)."""
    fields: dict[str, Any] = {}
    for i, col in enumerate(c for c in schema.columns if c.usable):
        fields[f"f{i}"] = (_python_type(col), Field(..., alias=col.name, description=_describe(col),
                                                    json_schema_extra=_extra(col)))
    config = ConfigDict(extra="ignore", populate_by_name=True)
    return create_model("Record", __config__=config, **fields)


def _python_type(col: ColumnInfo) -> Any:
    if col.kind == NUMERIC:
        return float | None  # lax mode: "3.5" is read as 3.5, "abc" is a 422
    if col.kind == DATETIME:
        return str | None
    return str | int | float | bool | None  # a category may arrive as 2, "2" or true


def _describe(col: ColumnInfo) -> str:
    if col.kind == NUMERIC and col.minimum is not None:
        return f"number; training range {col.minimum:g} to {col.maximum:g}; null if unknown"
    if col.kind in (CATEGORICAL, BOOLEAN) and col.categories:
        shown = ", ".join(col.categories[:20]) + (" …" if len(col.categories) > 20 else "")
        return f"{col.kind}; one of: {shown}; null if unknown (unseen values are accepted as 'unknown')"
    if col.kind == DATETIME:
        return "date or date-time text, e.g. 2024-05-31; null if unknown"
    return col.kind


def _extra(col: ColumnInfo) -> dict[str, Any]:
    if col.kind in (CATEGORICAL, BOOLEAN) and col.categories:
        return {"examples": col.categories[:5]}
    if col.kind == NUMERIC and col.minimum is not None:
        return {"examples": [col.minimum, col.maximum]}
    return {}


class BodyReader:
    """Parses and validates a request body into records (dicts keyed f0..fN, in the schema's order)."""

    def __init__(self, schema: Schema, max_rows: int) -> None:
        self.Record = record_model(schema)
        self.features, self.max_rows = list(schema.features), max_rows
        self._names = set(self.features)
        self._rows = TypeAdapter(list[self.Record])
        wrapped = create_model("Records", records=(list[self.Record], Field(..., min_length=1)))
        self.openapi = TypeAdapter(list[self.Record] | wrapped | self.Record).json_schema(
            ref_template="#/components/schemas/{model}")

    def read(self, body: bytes) -> list[Any]:
        """The body's records, validated; a :class:`BodyError` (400, 413 or 422) naming what is wrong."""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise BodyError(400, f"The body is not valid JSON ({err}). Send one of the accepted forms.") from err
        rows = self._rows_of(data)
        if not rows:
            raise BodyError(422, "The body holds no records: send at least one row to predict.")
        if len(rows) > self.max_rows:
            raise BodyError(413, f"The body holds {len(rows):,} records; this service predicts at most "
                            f"{self.max_rows:,} per request (--max-rows). Send them in several requests.")
        try:
            return self._rows.validate_python(rows)
        except ValidationError as err:
            raise self._problems(err) from None

    def _rows_of(self, data: Any) -> list[Any]:
        if isinstance(data, list):
            return data
        if isinstance(data, dict) and "records" in data and "records" not in self._names:
            if isinstance(data["records"], list):
                return data["records"]
            raise BodyError(422, f"'records' must be a list of records. Got {_kind(data['records'])} instead.")
        if isinstance(data, dict) and self._names & data.keys():
            return [data]  # one record
        keys = ", ".join(repr(k) for k in list(data)[:5]) if isinstance(data, dict) else ""
        got = f"an object with keys {keys} (none of them a column of the model)" if keys else _kind(data)
        raise BodyError(422, f"The body must be one of the accepted forms. Got {got} instead. "
                        f"The model's columns: {', '.join(self.features[:20])}" +
                        (" …" if len(self.features) > 20 else "") + " (see GET /schema).")

    def _problems(self, err: ValidationError) -> BodyError:
        detail, lines = [], []
        for e in err.errors(include_url=False, include_context=False, include_input=False):
            loc = list(e["loc"])
            row = loc[0] if loc and isinstance(loc[0], int) else None
            column = next((p for p in loc[1:] if isinstance(p, str) and p in self._names), None)
            if e["type"] == "missing":
                text = f"column '{column}' is missing (send null for an unknown value)"
            elif column is not None:
                text = f"column '{column}': {e['msg'][0].lower()}{e['msg'][1:]}"
            else:
                text = f"{e['msg'][0].lower()}{e['msg'][1:]}"
            if (text := f"record {row}: {text}" if row is not None else text) not in lines:
                lines.append(text)
            place = [row, column] if row is not None and column else loc
            detail.append({"loc": ["records", *place], "msg": text, "type": e["type"]})
        more = f" (and {len(lines) - MAX_PROBLEMS} more)" if len(lines) > MAX_PROBLEMS else ""
        return BodyError(422, f"{len(lines)} problem(s) in the records: " + "; ".join(lines[:MAX_PROBLEMS]) + more
                         + ".", detail)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a text", bool: "true/false", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
