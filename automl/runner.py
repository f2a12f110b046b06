"""Run a search in a background process that outlives the page that started it.

The dashboard calls :func:`start`; the child process (``python -m automl.runner
<experiment folder>``) calls :func:`automl.fit` on the request stored in the
folder. The page follows progress through the folder and the study, and
cancels by dropping a flag file (or SIGTERM/SIGINT: the same), which the search checks between
folds and a fit at its next clock check.
"""

from __future__ import annotations

import io
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from automl import experiment as ex
from automl.experiment import Experiment, Workspace
from automl.monitor import retrain_request

REQUEST = "request.json"
RESUME = "resume.json"  # present while a resume is asked for: the worker continues the study instead of fitting
LOG = "worker.log"
RESUMABLE = (ex.CANCELLED, ex.FAILED)


def start(workspace: str | os.PathLike | None, target: str, *, data_path: str | os.PathLike | None = None,
          data_bytes: bytes | None = None, filename: str | None = None, name: str | None = None,
          owner: str | None = None, **options: Any) -> Experiment:
    """Create the experiment (owned by ``owner``: the signed-in email, or this machine's dashboard user), store
    the table in it (for uploads) and launch the worker."""
    if data_bytes is None and data_path is None:
        raise ValueError("start() needs data_path or data_bytes")
    workspace = Workspace(workspace)
    exp = workspace.create(name=name, owner=owner or ex.machine_owner("dashboard"), status=ex.QUEUED, target=target)
    try:
        proc = _launch(exp, data_path, data_bytes, filename, target, options)
    except BaseException as err:
        workspace.discard(exp)  # created for nothing: never left queued with no worker
        if isinstance(err, OSError):
            raise ex.storage_error(err, err.filename or exp.path) from err
        raise
    exp.update(pid=proc.pid, host=platform.node())
    # Reap the child when it ends so it never lingers as a zombie of the server process.
    threading.Thread(target=proc.wait, daemon=True).start()
    return exp


def _launch(exp: Experiment, data_path, data_bytes: bytes | None, filename: str | None, target: str,
            options: dict[str, Any]) -> subprocess.Popen:
    """Store the request (and an uploaded table) in the folder, then start the worker process."""
    if data_bytes is not None:
        suffix = Path(filename or "upload.csv").suffix.lower() or ".csv"
        data = exp.file(f"input{suffix}")
        ex.atomic_write_bytes(data, data_bytes, make_parent=False)
    else:
        data = Path(data_path).resolve()
    exp.write_json(REQUEST, {"data": str(data), "filename": filename or Path(data).name, "target": target,
                             "options": options})
    return _spawn(exp)


def _spawn(exp: Experiment) -> subprocess.Popen:
    """The worker process for ``exp``, in its own session so it outlives the page; output to worker.log."""
    with open(exp.file(LOG), "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "automl.runner", str(exp.path.resolve())],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def start_retrain(champion: Experiment, live, workspace: str | os.PathLike | None = None,
                  time_budget: float | None = None, trials: int | None = None, by: str | None = None) -> Experiment:
    """Start (in the background) a challenger trained on the champion's training rows plus labelled live rows;
    ``by`` (who asked) owns the challenger."""
    table, options, added = retrain_request(champion, live, time_budget=time_budget, trials=trials)
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    challenger = start(workspace or champion.path.parent, champion.target, data_bytes=buffer.getvalue(),
                       filename="retrain.parquet", name=f"{champion.name} · retrained", owner=by, **options)
    challenger.update(champion=champion.id, live_rows_added=added)
    ex.record_change(champion.path, by, "retrained", f"challenger {challenger.id}, {added:,} live rows added")
    return challenger


def resume_blocker(exp: Experiment) -> str | None:
    """Why ``exp`` can't be resumed, or None: a cancelled or failed search whose rows and study were kept."""
    import optuna

    status = exp.status
    if status not in RESUMABLE:
        return f"it is {status}; only a cancelled or failed search can be resumed"
    if not (exp.file(ex.TRAIN).exists() and exp.file(ex.HOLDOUT).exists()) or not exp.record.metric:
        return "it stopped before its rows were split, so there is no search to continue; train it again"
    try:
        study = optuna.load_study(study_name=exp.id, storage=exp.storage_url)
    except (KeyError, ValueError, RuntimeError, OSError):
        return "its study can't be read, so there is no search to continue; train it again"
    if not study.trials:
        return "its study has no trials, so there is nothing to continue; train it again"
    return None


def start_resume(exp: Experiment, time_budget: float | None = None, trials: int | None = None,
                 by: str | None = None) -> Experiment:
    """Continue a cancelled or failed search in the background, for another time or trial budget."""
    from automl.errors import AutoMLError

    why = resume_blocker(exp)
    if why is not None:
        raise AutoMLError(f"Experiment {exp.id} can't be resumed: {why}.", "Start a new search from the Train page.")
    exp.write_json(RESUME, {"time_budget": time_budget, "trials": trials})
    exp.update(status=ex.QUEUED, error=None, pid=os.getpid(), host=platform.node())
    proc = _spawn(exp)
    exp.update(pid=proc.pid)
    threading.Thread(target=proc.wait, daemon=True).start()
    ex.record_change(exp.path, by, "resumed", f"for {time_budget:.0f} s more" if time_budget else "")
    return exp


def cancel(exp: Experiment, by: str | None = None) -> None:
    """Ask the worker to stop after the current fold; it keeps the best model found so far."""
    exp.request_cancel()
    ex.record_change(exp.path, by, "cancelled")


def _run(path: str) -> int:
    """The worker process: SIGTERM and SIGINT end it like Cancel (the same as ``automl fit``), exit 128 + signal."""
    from automl.api import fit, resume
    from automl.errors import AutoMLError
    from automl.search import process_started

    exp = Experiment(Path(path))
    with ex.StopSignals(exp, quiet=True) as stop:
        try:
            again = exp.read_json(RESUME)
            request = {} if again is not None else exp.read_json(REQUEST)
            if request is None:
                raise AutoMLError(f"Experiment {exp.id} has no {REQUEST}: there is nothing to run.",
                                  "Start the search again from the Train page.")
        except (OSError, ValueError, AutoMLError) as err:
            print(f"error: {ex.record_failure(exp, err, searched=False)}", file=sys.stderr)
            return 2
        try:
            if again is not None:
                exp.file(RESUME).unlink(missing_ok=True)  # asked once: a later start is a fresh request
                resume(exp, time_budget=again.get("time_budget"), trials=again.get("trials"))
            else:
                fit(request["data"], request["target"], experiment=exp, clock_start=process_started(),
                    **request["options"])
        except AutoMLError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except ex.Interrupted as err:
            print(f"interrupted ({err}): cancelled at once; resumable", file=sys.stderr)
            return err.exit_code
    return stop.exit_code or 0


if __name__ == "__main__":
    sys.exit(_run(sys.argv[1]))
