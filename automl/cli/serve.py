"""``automl serve EXPERIMENT --port P``: the model as a REST service (FastAPI under uvicorn)."""

from __future__ import annotations

import argparse
import os
import sys

from automl.cli._common import add_workspace, locate_experiment
from automl.errors import AutoMLError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve an experiment's model over HTTP (POST /predict, /docs)")
    p.add_argument("experiment", help="experiment id in the workspace")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: this machine only)")
    p.add_argument("--token", default=None,
                   help="require 'Authorization: Bearer TOKEN' on every route but /health (default: "
                        "$AUTOML_SERVE_TOKEN; prefer the variable: a flag shows in the process list)")
    p.add_argument("--max-rows", type=int, default=100_000, help="rows per request, more is a 413 (default 100000)")
    p.add_argument("--max-body-mb", type=float, default=20.0,
                   help="request body size in MB, more is a 413 (default 20)")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from automl.deploy import serve

    if not 0 < args.port < 65536:
        raise AutoMLError(f"The port must be between 1 and 65535. Got {args.port} instead.", "Use e.g. --port 8000.")
    if args.max_rows < 1:
        raise AutoMLError(f"--max-rows must be at least 1. Got {args.max_rows} instead.", "Use e.g. --max-rows 100000.")
    if not args.max_body_mb > 0:
        raise AutoMLError(f"--max-body-mb must be above 0. Got {args.max_body_mb} instead.",
                          "Use e.g. --max-body-mb 20.")
    token = args.token or os.environ.get("AUTOML_SERVE_TOKEN") or None
    experiment = locate_experiment(args)  # an id, a folder or a registry name (its champion)
    print(f"Serving experiment {experiment.id} on http://{args.host}:{args.port} (docs at /docs); Ctrl-C stops.",
          flush=True)
    print(f"Limits: {args.max_rows:,} rows and {args.max_body_mb:g} MB per request (413 beyond).", flush=True)
    if token:
        print("A token is required: send 'Authorization: Bearer <token>' (all routes but /health).", flush=True)
    else:
        print("No token is required: anyone who can reach the port can predict.", flush=True)
        if args.host not in LOCAL_HOSTS:
            print(f"warning: listening on {args.host} without a token; set AUTOML_SERVE_TOKEN (or --token) "
                  "before exposing the service beyond this machine.", file=sys.stderr, flush=True)
    serve(experiment, host=args.host, port=args.port, token=token, max_rows=args.max_rows,
          max_body_mb=args.max_body_mb)
    return 0
