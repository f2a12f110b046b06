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

    # __path__, not __file__: works for a regular, an editable or a namespace install alike.
    return Path(next(iter(dashboard.__path__))).resolve() / "app.py"


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    # Streamlit reads .streamlit/config.toml from its working directory: run it from the project root,
    # and pin the workspace to where the user is (or asked for) before changing directory.
    env["AUTOML_WORKSPACE"] = str(Path(args.workspace or env.get("AUTOML_WORKSPACE") or "workspace").resolve())
    app = app_path()
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.address", args.host, "--browser.gatherUsageStats", "false"]
    print(f"Dashboard on http://{args.host}:{args.port}  (workspace {env['AUTOML_WORKSPACE']})", flush=True)
    return subprocess.call(cmd, env=env, cwd=app.parent.parent)
