"""Throughput of the REST service (``automl serve``) on this machine, over loopback only.

Starts the real service (uvicorn in a subprocess on a free 127.0.0.1 port) for a
trained experiment and measures:

* 1,000 single-row ``POST /predict`` requests, sequential, one keep-alive connection
  -> requests/s and p50 / p95 latency;
* one 100,000-row batch -> rows/s (JSON in, validation, prediction, prediction log, JSON out).

Usage: python bench/serve_throughput.py [--experiment ID --workspace DIR] [--requests 1000] [--batch 100000]
Without an experiment, a LightGBM model is trained on credit-g first (a few seconds).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(exp_id: str, workspace: Path, code: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """The service of ``code`` (this checkout, or an older one to compare) for the experiment, once /health
    answers."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "automl", "serve", exp_id, "--port", str(port), "--workspace",
                             str(workspace)], cwd=code, env={**os.environ, "PYTHONPATH": str(code)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the service exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the service did not answer /health within 90 s")


def records(exp, n: int) -> list[dict]:
    rows = exp.holdout()[exp.schema.features]
    picked = rows.iloc[np.arange(n) % len(rows)].astype(object)
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in picked.to_dict(orient="records")]


def main() -> int:
    import httpx

    import automl
    from automl.experiment import Workspace

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiment")
    parser.add_argument("--workspace")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100_000)
    args = parser.parse_args()
    tmp = None
    if args.experiment:
        exp = Workspace(args.workspace).get(args.experiment)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-serve-")
        t0 = time.perf_counter()
        exp = automl.fit(ROOT / "tests" / "fixtures" / "credit-g.csv", "class", trials=1, seed=0, workspace=tmp.name,
                         ensemble=False, algorithms=["lightgbm"])
        print(f"trained {exp.meta['best']['label']} on credit-g in {time.perf_counter() - t0:.1f} s")
    proc, url = start(exp.id, exp.path.parent)
    try:
        singles = records(exp, args.requests)
        with httpx.Client(base_url=url, timeout=60) as client:
            for r in singles[:20]:  # warm-up: first requests import and allocate
                client.post("/predict", json={"records": [r]}).raise_for_status()
            latencies = []
            start_all = time.perf_counter()
            for r in singles:
                t = time.perf_counter()
                client.post("/predict", json={"records": [r]}).raise_for_status()
                latencies.append(time.perf_counter() - t)
            total = time.perf_counter() - start_all
            lat = np.asarray(latencies) * 1000
            print(f"single-row POST /predict x {len(singles)}: {len(singles) / total:.0f} requests/s, "
                  f"p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms, "
                  f"max {lat.max():.1f} ms")
            batch = records(exp, args.batch)
            t = time.perf_counter()
            answer = client.post("/predict", json={"records": batch}, timeout=600)
            answer.raise_for_status()
            elapsed = time.perf_counter() - t
            assert len(answer.json()["predictions"]) == len(batch)
            print(f"one {len(batch):,}-row batch: {elapsed:.2f} s, {len(batch) / elapsed:,.0f} rows/s "
                  "(request JSON, validation, prediction, log, response)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
