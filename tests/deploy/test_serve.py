"""The REST service, run for real (``automl serve`` under uvicorn on a free localhost port)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

import automl
from automl.deploy import _prediction_log as prediction_log
from automl.experiment import Experiment

ROOT = Path(__file__).resolve().parents[2]
TITANIC = ROOT / "automl" / "data" / "samples" / "titanic.csv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def exp(tmp_path_factory) -> Experiment:
    ws = tmp_path_factory.mktemp("serve-ws")
    return automl.fit(TITANIC, "Survived", trials=1, seed=0, workspace=ws, ensemble=False, algorithms=["lightgbm"])


def start_server(exp: Experiment, *flags: str, env: dict | None = None):
    """``python -m automl serve`` in a subprocess, once it answers /health: (process, base URL)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "automl", "serve", exp.id, "--port", str(port),
                             "--workspace", str(exp.path.parent), *flags], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the service did not start: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    return out.decode()


@pytest.fixture(scope="module")
def server(exp):
    """The service with its defaults; yields an HTTP client on its base URL and stops it afterwards."""
    proc, url = start_server(exp)
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client
    assert "No token is required" in stop(proc)


TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def strict(exp):
    """The service with a token (from the environment) and small limits: 5 rows, 0.05 MB."""
    proc, url = start_server(exp, "--max-rows", "5", "--max-body-mb", "0.05", env={"AUTOML_SERVE_TOKEN": TOKEN})
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client
    assert "A token is required" in stop(proc)


def _records(exp: Experiment, n: int) -> list[dict]:
    rows = exp.holdout()[exp.schema.features].head(n)
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in rows.astype(object).to_dict(orient="records")]


def test_health_schema_and_openapi(server, exp):
    health = server.get("/health").json()
    assert health["status"] == "ok" and health["experiment"] == exp.id
    schema = server.get("/schema").json()
    assert schema["features"] == exp.schema.features and schema["classes"] == [0, 1]
    sex = next(c for c in schema["columns"] if c["name"] == "Sex")
    assert sorted(sex["categories"]) == ["female", "male"]
    doc = server.get("/openapi.json").json()
    record = doc["components"]["schemas"]["Record"]
    assert set(record["required"]) == set(exp.schema.features)
    assert "female" in record["properties"]["Sex"]["description"]
    assert "/predict" in doc["paths"]


def test_predict_matches_the_model_and_is_logged(server, exp):
    records = _records(exp, 25)
    before = prediction_log.count(exp, source="api")
    body = server.post("/predict", json={"records": records})
    assert body.status_code == 200, body.text
    out = body.json()
    frame = pd.DataFrame(records)
    model = exp.load_model()
    assert out["predictions"] == model.predict(frame).tolist()
    proba = np.array([[p["0"], p["1"]] for p in out["probabilities"]])
    np.testing.assert_allclose(proba, model.predict_proba(frame), atol=1e-12)
    assert prediction_log.count(exp, source="api") == before + 25
    logged = prediction_log.read(exp, source="api").tail(25)
    assert logged["prediction"].tolist() == out["predictions"]
    assert logged["Sex"].tolist() == frame["Sex"].tolist()


def test_bad_payloads_get_422_naming_the_field(server, exp):
    good = _records(exp, 1)[0]
    missing = {k: v for k, v in good.items() if k != "Fare"}
    answer = server.post("/predict", json={"records": [good, missing]})
    assert answer.status_code == 422
    assert any(e["loc"][-1] == "Fare" and e["loc"][-2] == 1 and e["type"] == "missing"
               for e in answer.json()["detail"])
    answer = server.post("/predict", json={"records": [{**good, "Age": "old"}]})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "Age"
    assert server.post("/predict", json={"records": []}).status_code == 422
    ok = server.post("/predict", json={"records": [{**good, "Age": "31", "Sex": "unknown", "extra": 1}]})
    assert ok.status_code == 200 and any("Sex" in w for w in ok.json()["warnings"])


def test_a_list_a_records_object_and_one_record_predict_alike(server, exp):
    records = _records(exp, 3)
    as_list = server.post("/predict", json=records)
    wrapped = server.post("/predict", json={"records": records})
    assert as_list.status_code == wrapped.status_code == 200, as_list.text
    assert as_list.json() == wrapped.json()
    for i, r in enumerate(records):
        one = server.post("/predict", json=r)
        assert one.status_code == 200, one.text
        assert one.json()["predictions"] == [as_list.json()["predictions"][i]]
        assert one.json()["probabilities"] == [as_list.json()["probabilities"][i]]
    body = server.get("/openapi.json").json()["paths"]["/predict"]["post"]["requestBody"]
    forms = body["content"]["application/json"]["schema"]["anyOf"]
    assert {"type": "array", "items": {"$ref": "#/components/schemas/Record"}} in forms
    assert {"$ref": "#/components/schemas/Record"} in forms and len(forms) == 3


@pytest.mark.parametrize("body, status, says", [
    ({"rows": [{"Pclass": 3}]}, 422, "keys 'rows'"),
    ({"records": {"Pclass": 3}}, 422, "'records' must be a list"),
    ("just text", 422, "Got a text instead"),
    ([1, 2], 422, "record 0: input should be a valid dictionary"),
])
def test_a_body_of_another_shape_gets_a_readable_message_naming_the_forms(server, body, status, says):
    answer = server.post("/predict", json=body)
    assert answer.status_code == status
    out = answer.json()
    assert says in out["error"], out
    assert any("JSON list of records" in f for f in out["accepted"]) and any('"records"' in f for f in out["accepted"])
    assert "pydantic" not in answer.text and "errors.pydantic.dev" not in answer.text


def test_not_json_is_a_400_and_a_missing_column_is_named(server, exp):
    answer = server.post("/predict", content=b"{Pclass: 3", headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "not valid JSON" in answer.json()["error"]
    good = _records(exp, 1)[0]
    answer = server.post("/predict", json={k: v for k, v in good.items() if k != "Fare"})
    assert answer.status_code == 422
    assert "record 0: column 'Fare' is missing" in answer.json()["error"]


def test_too_many_rows_and_too_big_a_body_get_413(strict, exp):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    five = _records(exp, 5)
    assert strict.post("/predict", json=five, headers=auth).status_code == 200
    answer = strict.post("/predict", json=[*five, five[0]], headers=auth)
    assert answer.status_code == 413 and "at most 5 per request (--max-rows)" in answer.json()["error"]
    big = json.dumps([{**five[0], "note": "x" * 60_000}]).encode()  # 60 KB > 0.05 MB, declared up front
    answer = strict.post("/predict", content=big, headers={**auth, "content-type": "application/json"})
    assert answer.status_code == 413 and "at most 0.05 MB per request (--max-body-mb)" in answer.json()["error"]

    def chunks():  # no Content-Length: the service must count the bytes as they arrive
        for _ in range(8):
            yield b" " * 10_000

    answer = strict.post("/predict", content=chunks(), headers={**auth, "content-type": "application/json"})
    assert answer.status_code == 413 and "passed 50,000 bytes" in answer.json()["error"]
    small = strict.post("/predict", json=five[0], headers=auth)  # the service is still fine
    assert small.status_code == 200


def test_a_token_is_required_everywhere_but_health(strict, exp):
    row = _records(exp, 1)[0]
    assert strict.get("/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = strict.post("/predict", json=row, headers=headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer <token>" in answer.json()["error"]
        assert strict.get("/schema", headers=headers).status_code == 401
        assert strict.get("/openapi.json", headers=headers).status_code == 401
    ok = strict.post("/predict", json=row, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and len(ok.json()["predictions"]) == 1


def test_the_tabulated_preprocessing_equals_the_pipelines_own(exp):
    """The served fast path: the same matrix as the pipeline, for the trained (tree) model and a linear one."""
    from sklearn.linear_model import LogisticRegression

    from automl.data import build_pipeline
    from automl.deploy._input_check import check_rows
    from automl.deploy._serve_fast import FAST_ROWS, FastPipeline, fast_model

    features = exp.schema.features
    table = pd.read_csv(TITANIC)
    linear = build_pipeline(exp.schema, LogisticRegression(max_iter=500), "linear").fit(table[features],
                                                                                         table["Survived"])
    odd = table[features].head(4).copy()
    odd.loc[0, "Sex"], odd.loc[1, "Embarked"], odd.loc[2, "Age"], odd.loc[3, "Pclass"] = "alien", None, np.inf, 2.0
    for pipeline in (exp.load_model(), linear):
        fast = fast_model(pipeline)
        assert isinstance(fast, FastPipeline)
        for frame in (table[features].head(FAST_ROWS), table[features].iloc[[7]], odd):
            rows = check_rows(frame, exp.schema).frame
            np.testing.assert_array_equal(fast.transform(rows), pipeline[:-1].transform(rows))
    assert any(kind == "table" for kind, _, _ in fast_model(exp.load_model()).blocks)  # the lookups do run
