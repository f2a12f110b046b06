"""``automl dashboard``: start the Streamlit app."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from automl.commands._common import add_workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="open the web dashboard")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="localhost", help="address to listen on (0.0.0.0 to share on the network)")
    add_workspace(p)
    p.set_defaults(func=run)


def app_path() -> Path:
    import dashboard

    return Path(dashboard.__file__).parent / "app.py"


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.workspace:
        env["AUTOML_WORKSPACE"] = str(Path(args.workspace).resolve())
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path()), "--server.port", str(args.port),
           "--server.address", args.host, "--browser.gatherUsageStats", "false"]
    return subprocess.call(cmd, env=env)
