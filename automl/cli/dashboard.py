"""``automl dashboard``: start the Streamlit app."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from automl.cli._common import add_workspace
from automl.errors import AutoMLError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="open the web dashboard")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="localhost", help="address to listen on (0.0.0.0 to share on the network)")
    add_workspace(p)
    p.set_defaults(func=run)


def app_path() -> Path:
    # Found, not imported: the library never imports the app that sits on top of it.
    # submodule_search_locations works for a regular, an editable or a namespace install alike.
    spec = importlib.util.find_spec("dashboard")
    if spec is None or not spec.submodule_search_locations:
        raise AutoMLError("The dashboard package is not installed next to automl.",
                          "Install the project with `pip install -e .` from its folder.")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "app.py"


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
