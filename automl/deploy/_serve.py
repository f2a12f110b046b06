"""A REST service for one experiment's model: ``POST /predict``, ``GET /health``, ``GET /schema``.

The request model is generated from the experiment's schema, so the OpenAPI
document (``/openapi.json``, ``/docs``) lists every column with its type and
allowed values, and FastAPI answers a bad payload with 422 naming the field
(a missing column, text in a number field). Every prediction goes to the
experiment's prediction log with source ``api``. Run with uvicorn.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model

from automl.data import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, ColumnInfo, Schema, proba_column
from automl.deploy import _prediction_log as prediction_log
from automl.deploy._predict import cached_model, predict_frame, single_threaded
from automl.errors import AutoMLError
from automl.experiment import LEGACY_MODEL, Experiment

MAX_RECORDS = 200_000
SMALL_REQUEST = 1_000  # rows; up to this many, predict single-threaded


class PredictResponse(BaseModel):
    """Predictions in request order; ``probabilities`` per row (class -> P) for classification."""

    predictions: list[Any]
    probabilities: list[dict[str, float]] | None = None
    errors: list[str] = Field(default_factory=list, description="per row: values that could not be read")
    warnings: list[str] = Field(default_factory=list)
    experiment: str


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


def create_app(experiment: Experiment):
    """The FastAPI app serving ``experiment`` (its model is loaded once, here)."""
    from fastapi import FastAPI

    record = experiment.record
    if not experiment.has_model and experiment.file(LEGACY_MODEL).exists():
        raise experiment.no_model_error()  # saved as a pickle by an older version: say to retrain
    if not experiment.has_model:
        raise AutoMLError(f"Experiment {experiment.id} has no model to serve (status: {record.status}).",
                          "Wait for the search to finish, or serve a completed experiment.")
    schema, task, classes = experiment.schema, experiment.task, list(experiment.classes)
    model = cached_model(experiment)
    small_model = single_threaded(model)  # same predictions; no thread start-up per single-row request
    Record = record_model(schema)
    fields = [f"f{i}" for i in range(len(schema.features))]
    Request = create_model("PredictRequest", records=(list[Record], Field(..., min_length=1, max_length=MAX_RECORDS)))
    app = FastAPI(title=f"AutoML model {record.name or experiment.id}", version=experiment.id,
                  description=f"Predicts '{record.target}' ({task}) from {len(schema.features)} columns.")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "experiment": experiment.id, "task": task,
                "algorithm": record.model.algorithm if record.model else None}

    @app.get("/schema")
    def get_schema() -> dict[str, Any]:
        return {"experiment": experiment.id, "task": task, "target": record.target, "classes": classes,
                "features": schema.features, "columns": [_column(c) for c in schema.columns if c.usable]}

    def predict(request) -> PredictResponse:
        # Fields are f0..fN (column names need not be identifiers); __dict__ is much faster than model_dump.
        frame = pd.DataFrame.from_records([r.__dict__ for r in request.records], columns=list(fields))
        frame.columns = schema.features
        chosen = small_model if len(frame) <= SMALL_REQUEST else model
        result = predict_frame(chosen, frame, schema, task, classes)
        prediction_log.append(experiment, result.inputs, result.outputs, "api")
        out = result.frame
        proba = None
        if classes:
            names = [proba_column(c) for c in classes]
            proba = [dict(zip(map(str, classes), row)) for row in out[names].to_numpy(dtype=float).tolist()]
        return PredictResponse(predictions=[_plain(v) for v in out["prediction"].tolist()], probabilities=proba,
                               errors=out["errors"].tolist(), warnings=result.warnings, experiment=experiment.id)

    # The request class is built at run time, so its annotation is set here rather than written as text.
    predict.__annotations__ = {"request": Request, "return": PredictResponse}
    app.post("/predict", response_model=PredictResponse)(predict)
    return app


def _column(col: ColumnInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"name": col.name, "kind": col.kind, "required": True, "nullable": True}
    if col.categories:
        out["categories"] = col.categories
    if col.kind == NUMERIC:
        out["minimum"], out["maximum"] = col.minimum, col.maximum
    return out


def _plain(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def serve(experiment: Experiment, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the service until interrupted."""
    import uvicorn

    uvicorn.run(create_app(experiment), host=host, port=port, log_level="warning", access_log=False)
