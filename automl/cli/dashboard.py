"""``automl dashboard``: start the Streamlit app."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from automl.cli._common import add_workspace
from automl.errors import AutoMLError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboard", help="open the web dashboard")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--host", default="localhost",
                   help="address to listen on (0.0.0.0 to share on the network: configure sign-in first)")
    p.add_argument("--secrets", metavar="FILE", help="the secrets file with the [auth] section that turns sign-in "
                   "on (default: .streamlit/secrets.toml of the project, then ~/.streamlit/secrets.toml)")
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


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def secrets_files(project: Path, given: str | None) -> list[Path]:
    """Where Streamlit will read secrets from: the file given, else its two default places."""
    if given:
        return [Path(given).expanduser().resolve()]
    return [project / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"]


def sign_in_configured(files: list[Path]) -> bool:
    """Whether one of ``files`` has an ``[auth]`` section (an unreadable file counts as none)."""
    for path in files:
        try:
            if tomllib.loads(path.read_text()).get("auth"):
                return True
        except (OSError, ValueError):
            continue
    return False


def run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    # Streamlit reads .streamlit/config.toml from its working directory: run it from the project root,
    # and pin the workspace to where the user is (or asked for) before changing directory.
    env["AUTOML_WORKSPACE"] = str(Path(args.workspace or env.get("AUTOML_WORKSPACE") or "workspace").resolve())
    app = app_path()
    files = secrets_files(app.parent.parent, args.secrets)
    if args.secrets and not files[0].is_file():
        raise AutoMLError(f"There is no secrets file '{args.secrets}'.", "Give the path of a secrets.toml that has "
                          "an [auth] section (README, 'Sign-in').")
    signed = sign_in_configured(files)
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.address", args.host, "--browser.gatherUsageStats", "false"]
    if args.secrets:
        cmd += ["--secrets.files", str(files[0])]
    print(f"Dashboard on http://{args.host}:{args.port}  (workspace {env['AUTOML_WORKSPACE']}; sign-in "
          f"{'on' if signed else 'off: one user, full control'})", flush=True)
    if args.host not in LOCAL_HOSTS and not signed:
        print(f"warning: listening on {args.host} without sign-in: anyone who reaches this machine on port "
              f"{args.port} gets full control (every experiment, delete, retrain, uploads). Configure sign-in "
              "([auth] in .streamlit/secrets.toml; README, 'Sign-in') or keep the default --host localhost.",
              file=sys.stderr, flush=True)
    return subprocess.call(cmd, env=env, cwd=app.parent.parent)
