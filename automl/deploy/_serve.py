"""A REST service for one experiment's model: ``POST /predict``, ``GET /health``, ``GET /schema``.

``/predict`` takes a JSON list of records, ``{"records": [...]}`` or one record
(see :mod:`._serve_body`); the OpenAPI document (``/openapi.json``, ``/docs``)
lists every column with its type and allowed values. A bearer token and the
body-size limit are checked by :mod:`._serve_guard`. Every prediction goes to
the experiment's prediction log with source ``api``. Run with uvicorn.

Latency: the model is loaded once, here; requests of up to
:data:`SMALL_REQUEST` rows use a single-threaded copy (two requests on two
cores beat one request fighting for both) whose preprocessing is tabulated
(:mod:`._serve_fast`), and run on the event loop (no thread hand-off); bigger
ones run in a worker thread with the model's own threads.
"""

from __future__ import annotations

import math
from contextlib import asynccontextmanager
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field

from automl.data import NUMERIC, ColumnInfo, proba_column
from automl.deploy._predict import cached_model, predict_frame, single_threaded
from automl.deploy._prediction_log import LogWriter
from automl.deploy._serve_body import BodyError, BodyReader
from automl.deploy._serve_fast import fast_model
from automl.deploy._serve_guard import Guard
from automl.errors import AutoMLError
from automl.experiment import LEGACY_MODEL, Experiment

MAX_ROWS = 100_000  # per request (--max-rows)
MAX_BODY_MB = 20.0  # per request (--max-body-mb); 100,000 titanic rows are ~15 MB of JSON
SMALL_REQUEST = 1_000  # rows; up to this many, predict single-threaded
INLINE_BYTES = 64_000  # bodies up to this size are predicted on the event loop; bigger ones in a thread


class PredictResponse(BaseModel):
    """Predictions in request order; ``probabilities`` per row (class -> P) for classification."""

    predictions: list[Any]
    probabilities: list[dict[str, float]] | None = None
    errors: list[str] = Field(default_factory=list, description="per row: values that could not be read")
    warnings: list[str] = Field(default_factory=list)
    experiment: str


class ErrorAnswer(BaseModel):
    """What a refused request gets back."""

    error: str
    accepted: list[str] | None = Field(None, description="the body forms /predict accepts")
    detail: list[dict[str, Any]] | None = Field(None, description="one entry per problem: loc, msg, type")


def create_app(experiment: Experiment, token: str | None = None, max_rows: int = MAX_ROWS,
               max_body_mb: float = MAX_BODY_MB):
    """The FastAPI app serving ``experiment`` (its model is loaded once, here), wrapped in the :class:`Guard`."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    record = experiment.record
    if not experiment.has_model and experiment.file(LEGACY_MODEL).exists():
        raise experiment.no_model_error()  # saved as a pickle by an older version: say to retrain
    if not experiment.has_model:
        raise AutoMLError(f"Experiment {experiment.id} has no model to serve (status: {record.status}).",
                          "Wait for the search to finish, or serve a completed experiment.")
    schema, task, classes = experiment.schema, experiment.task, list(experiment.classes)
    model = cached_model(experiment)
    small_model = fast_model(single_threaded(model))  # same predictions, see the module's docstring
    reader = BodyReader(schema, max_rows)
    names = [proba_column(c) for c in classes]
    log = LogWriter(experiment)

    @asynccontextmanager
    async def lifespan(_app: Any):
        yield
        log.close()

    app = FastAPI(title=f"AutoML model {record.name or experiment.id}", version=experiment.id, lifespan=lifespan,
                  description=f"Predicts '{record.target}' ({task}) from {len(schema.features)} columns. "
                  "POST /predict takes a JSON list of records, {\"records\": [...]} or one record.")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "experiment": experiment.id, "task": task,
                "algorithm": record.model.algorithm if record.model else None}

    @app.get("/schema")
    def get_schema() -> dict[str, Any]:
        return {"experiment": experiment.id, "task": task, "target": record.target, "classes": classes,
                "features": schema.features, "columns": [_column(c) for c in schema.columns if c.usable],
                "max_rows": max_rows, "max_body_mb": max_body_mb}

    def answer(body: bytes) -> dict[str, Any]:
        rows = reader.read(body)
        # Fields are f0..fN (column names need not be identifiers); __dict__ is much faster than model_dump.
        frame = pd.DataFrame.from_records([r.__dict__ for r in rows], columns=[f"f{i}" for i in
                                                                              range(len(schema.features))])
        frame.columns = schema.features
        result = predict_frame(small_model if len(frame) <= SMALL_REQUEST else model, frame, schema, task, classes)
        log.append(result.inputs, result.outputs, "api")
        out = result.outputs
        proba = None
        if classes:
            proba = [dict(zip(map(str, classes), row)) for row in out[names].to_numpy(dtype=float).tolist()]
        return {"predictions": [_plain(v) for v in out["prediction"].tolist()], "probabilities": proba,
                "errors": out["errors"].tolist(), "warnings": result.warnings, "experiment": experiment.id}

    refused = {code: {"model": ErrorAnswer} for code in (400, 401, 413, 422)}
    body_doc = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        k: v for k, v in reader.openapi.items() if k != "$defs"}}}}}

    async def predict(request: Request) -> Any:
        """Predict the rows of the body: a JSON list of records, {"records": [...]} or one record."""
        body = await request.body()  # the Guard stops it at the size limit while it streams
        try:
            content = answer(body) if len(body) <= INLINE_BYTES else await run_in_threadpool(answer, body)
        except BodyError as err:
            return JSONResponse(err.answer, status_code=err.status)
        return JSONResponse(content)

    predict.__annotations__ = {"request": Request, "return": Any}  # fastapi is imported here, not as text
    app.post("/predict", response_model=PredictResponse, responses=refused, openapi_extra=body_doc)(predict)
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = base_openapi()
            doc.setdefault("components", {}).setdefault("schemas", {}).update(reader.openapi.get("$defs", {}))
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi
    return Guard(app, token, int(max_body_mb * 1_000_000))


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


def serve(experiment: Experiment, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          max_rows: int = MAX_ROWS, max_body_mb: float = MAX_BODY_MB) -> None:
    """Run the service until interrupted."""
    import uvicorn

    app = create_app(experiment, token=token, max_rows=max_rows, max_body_mb=max_body_mb)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
