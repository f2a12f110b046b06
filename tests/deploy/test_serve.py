"""The REST service, run for real (``automl serve`` under uvicorn on a free localhost port)."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def server(exp):
    """``python -m automl serve`` in a subprocess; yields its base URL and stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "automl", "serve", exp.id, "--port", str(port),
                             "--workspace", str(exp.path.parent)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the service did not start: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.2)
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client
    proc.terminate()
    proc.wait(timeout=10)


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
    assert server.post("/predict", json={"rows": [good]}).status_code == 422
    ok = server.post("/predict", json={"records": [{**good, "Age": "31", "Sex": "unknown", "extra": 1}]})
    assert ok.status_code == 200 and any("Sex" in w for w in ok.json()["warnings"])
