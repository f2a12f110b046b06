"""``automl serve EXPERIMENT --port P``: the model as a REST service (FastAPI under uvicorn)."""

from __future__ import annotations

import argparse

from automl.cli._common import add_workspace
from automl.errors import AutoMLError
from automl.experiment import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve an experiment's model over HTTP (POST /predict, /docs)")
    p.add_argument("experiment", help="experiment id in the workspace")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: this machine only)")
    add_workspace(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from automl.deploy import serve

    if not 0 < args.port < 65536:
        raise AutoMLError(f"The port must be between 1 and 65535. Got {args.port} instead.", "Use e.g. --port 8000.")
    experiment = Workspace(args.workspace).get(args.experiment)
    print(f"Serving experiment {experiment.id} on http://{args.host}:{args.port} (docs at /docs); Ctrl-C stops.",
          flush=True)
    serve(experiment, host=args.host, port=args.port)
    return 0
