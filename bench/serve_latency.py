"""Latency and throughput of the REST service (``automl serve``), optionally beside an older checkout.

Trains a LightGBM model on a bundled sample (titanic, a few seconds) unless an
experiment is given, then for each code version starts the real service
(uvicorn in a subprocess on a free 127.0.0.1 port) and measures:

* single-row ``POST /predict``, one client, sequential on one keep-alive connection: p50 / p95 latency;
* 1,000-row batches, one client: rows/s;
* single-row requests from 8 concurrent clients (threads, one connection each): requests/s and p50.

Every body is ``{"records": [...]}``, the one form both old and new code accept.
Versions run one after the other in the same run, so their ratio is meaningful
even on a loaded machine; absolute figures are not.

Usage: python bench/serve_latency.py [--before /work/wt-serve-before] [--singles 300] [--clients 8]
Results: printed, and written to bench/results/serve_latency.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "serve_latency.md"
SAMPLE = ROOT / "automl" / "data" / "samples" / "titanic.csv"
sys.path.insert(0, str(ROOT))

from bench.serve_throughput import records, start  # noqa: E402  (one way to start the service and make rows)


def timed_posts(client, bodies: list) -> np.ndarray:
    """Milliseconds per request, each checked for a 200."""
    out = []
    for body in bodies:
        t = time.perf_counter()
        client.post("/predict", json=body).raise_for_status()
        out.append(time.perf_counter() - t)
    return np.asarray(out) * 1000


def measure(url: str, singles: list[dict], batch: list[dict], batches: int, clients: int, per_client: int) -> dict:
    import httpx

    with httpx.Client(base_url=url, timeout=120) as client:
        timed_posts(client, [{"records": [r]} for r in singles[:30]])  # warm-up: first requests allocate
        lat = timed_posts(client, [{"records": [r]} for r in singles])
        timed_posts(client, [{"records": batch}])
        t = time.perf_counter()
        timed_posts(client, [{"records": batch}] * batches)
        rows_per_s = len(batch) * batches / (time.perf_counter() - t)
    lats: list[np.ndarray] = [np.zeros(0)] * clients

    def run(i: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as c:
            lats[i] = timed_posts(c, [{"records": [r]} for r in singles[i::clients][:per_client]])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    together = np.concatenate(lats)
    return {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)),
            "rows_per_s": rows_per_s, "rps": len(together) / wall, "conc_p50": float(np.percentile(together, 50)),
            "conc_p95": float(np.percentile(together, 95))}


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main() -> int:
    import automl
    from automl.experiment import Workspace

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiment")
    parser.add_argument("--workspace")
    parser.add_argument("--before", type=Path, help="an older checkout to measure first (git worktree add ...)")
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=40)
    args = parser.parse_args()
    tmp = None
    if args.experiment:
        exp = Workspace(args.workspace).get(args.experiment)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-serve-")
        exp = automl.fit(SAMPLE, "Survived", trials=1, seed=0, workspace=tmp.name, ensemble=False,
                         algorithms=["lightgbm"])
    singles = records(exp, max(args.singles, args.clients * args.per_client))
    batch = records(exp, args.batch)
    versions = ([("before", args.before)] if args.before else []) + [("after", ROOT)]
    results, loads = {}, []
    try:
        for name, code in versions:
            loads.append(f"{name}: {load()} at start")
            proc, url = start(exp.id, exp.path.parent, code)
            try:
                results[name] = measure(url, singles[:args.singles], batch, args.batches, args.clients,
                                        args.per_client)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
            r = results[name]
            print(f"{name}: single row p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms; {args.batch:,}-row batches "
                  f"{r['rows_per_s']:,.0f} rows/s; {args.clients} clients {r['rps']:.0f} requests/s "
                  f"(p50 {r['conc_p50']:.1f} ms, p95 {r['conc_p95']:.1f} ms)", flush=True)
        write(results, loads, args, exp)  # reads the experiment: before its temporary folder goes
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


def write(results: dict, loads: list[str], args: argparse.Namespace, exp) -> None:
    rows = [("single-row p50 (ms)", "p50", "{:.1f}"), ("single-row p95 (ms)", "p95", "{:.1f}"),
            (f"{args.batch:,}-row batches (rows/s)", "rows_per_s", "{:,.0f}"),
            (f"{args.clients} clients, single rows (requests/s)", "rps", "{:.0f}"),
            (f"{args.clients} clients, p50 (ms)", "conc_p50", "{:.1f}"),
            (f"{args.clients} clients, p95 (ms)", "conc_p95", "{:.1f}")]
    names = list(results)
    lines = ["# REST service latency (`python bench/serve_latency.py" + (" --before …" if args.before else "") + "`)",
             "", f"Model: {exp.record.model.algorithm if exp.record.model else '?'} on titanic "
             f"({len(exp.schema.features)} columns), experiment {exp.id}. Loopback, one machine; the clients share "
             "its cores with the service.", "",
             "| | " + " | ".join(names) + (" | after / before |" if len(names) == 2 else " |"),
             "|---|" + "---:|" * (len(names) + (len(names) == 2))]
    for label, key, fmt in rows:
        cells = [fmt.format(results[n][key]) for n in names]
        if len(names) == 2:
            cells.append(f"{results['after'][key] / results['before'][key]:.2f}x")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "Machine load when each version started (figures are noisy when it is loaded):", "",
              *[f"- {line}" for line in loads], ""]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
