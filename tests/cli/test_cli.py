"""The `automl` command as a user runs it: a real subprocess, exit codes, printed results."""

from __future__ import annotations

import subprocess
import sys

from conftest import DATA, SAMPLES

from automl.experiment import Experiment, model_summary, read_access


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_fit_prints_leaderboard_holdout_and_folder(tmp_path):
    out = run("fit", str(DATA / "credit-g.csv"), "--target", "class", "--trials", "6", "--workspace", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "Leaderboard" in out.stdout and "Held-out metrics" in out.stdout and "roc_auc" in out.stdout
    assert "trials" in out.stderr  # the progress bar
    exp_id = out.stdout.strip().splitlines()[-1].split()[1]
    exp = Experiment(tmp_path / exp_id)
    assert exp.has_model
    assert f"Final model: {model_summary(exp.record).text()}" in out.stdout  # the same words as every view
    assert f"({exp.record.rows.holdout} rows never seen by the search)" in out.stdout
    owner = read_access(exp.path).owner  # the machine user, so the dashboard can say who made what
    assert owner.startswith("cli:") and "@" in owner
    listed = run("list", "--workspace", str(tmp_path))
    assert listed.returncode == 0 and exp_id in listed.stdout and owner in listed.stdout


def test_bad_input_exits_2_with_a_message(tmp_path):
    out = run("fit", str(SAMPLES / "titanic.csv"), "--target", "nope", "--workspace", str(tmp_path))
    assert out.returncode == 2
    assert "error: The target column 'nope' is not in the table." in out.stderr and "fix:" in out.stderr
    assert "Traceback" not in out.stderr
    missing = run("fit", str(tmp_path / "missing.csv"), "--target", "x", "--workspace", str(tmp_path))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_list_on_empty_workspace(tmp_path):
    out = run("list", "--workspace", str(tmp_path / "none"))
    assert out.returncode == 0 and "No experiments" in out.stdout


def test_dashboard_command_serves_the_app_from_any_folder(tmp_path):
    """README's first command ends in `automl dashboard`: it must start from wherever the user is."""
    import os
    import signal

    from browser import free_port, wait_healthy

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "automl", "dashboard", "--port", str(port), "--host", "127.0.0.1"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out = proc.communicate(timeout=20)[0]
    assert f"workspace {tmp_path / 'workspace'}" in out


def _dashboard_output(tmp_path, *args: str) -> str:
    """What `automl dashboard ARGS` prints by the time it serves, then stopped."""
    import os
    import signal

    from browser import free_port, wait_healthy

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "automl", "dashboard", "--port", str(port), *args],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
    return proc.communicate(timeout=20)[0]


def test_the_network_without_sign_in_is_warned_about_and_with_it_is_not(tmp_path):
    out = _dashboard_output(tmp_path, "--host", "0.0.0.0")
    assert "sign-in off" in out and "warning: listening on 0.0.0.0 without sign-in" in out and "full control" in out
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:1/oauth2callback"\ncookie_secret = "%s"\n'
                       'client_id = "c"\nclient_secret = "s"\n'
                       'server_metadata_url = "http://localhost:1/.well-known/openid-configuration"\n' % ("k" * 32))
    out = _dashboard_output(tmp_path, "--host", "0.0.0.0", "--secrets", str(secrets))
    assert "sign-in on" in out and "warning" not in out
    missing = run("dashboard", "--secrets", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert missing.returncode == 2 and "There is no secrets file" in missing.stderr
