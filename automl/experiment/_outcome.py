"""How a run that did not complete is recorded: failed, cancelled by a signal, or its folder gone.

An experiment must never stay ``running`` or ``queued`` once its run has ended, and a disk fault
must not leave a half-made folder behind: what can't be recorded is removed.
"""

from __future__ import annotations

import shutil
import traceback

from automl.errors import AutoMLError
from automl.experiment._files import StorageError, atomic_write_bytes, now_iso, storage_fault
from automl.experiment._store import CANCELLED, FAILED, Experiment, ExperimentGone


def record_failure(exp: Experiment, err: BaseException, searched: bool = True) -> BaseException:
    """Record why ``exp``'s run ended with ``err``; return the error to raise in its place.

    A disk or permission fault, however deep in its causes (Optuna's SQLite writes included), becomes one
    :class:`StorageError`; a folder removed underneath becomes :class:`ExperimentGone`. ``searched=False``
    (the run never reached its search): an experiment whose failure can't even be written is removed. A stop
    signal records it cancelled (resumable) and is returned, also when a library's clean-up turned it into an
    error of its own on the way out.
    """
    if exp.removed:
        return err if isinstance(err, ExperimentGone) else ExperimentGone(exp.id)
    stop = _stop_in_chain(err)
    if stop is not None:
        done = int(exp.progress.get("complete") or 0)
        note = (f"Interrupted by a second stop signal before its model was refit; its {done} completed "
                f"trial{'s' * (done != 1)} are kept in the study, and the search can be resumed (automl.resume).")
        _try_update(exp, status=CANCELLED, error="interrupted", finished=now_iso(),
                    notes=[*exp.record.notes, note])
        return stop
    fault = storage_fault(err, exp.path, f"experiment {exp.id}")
    shown = fault or err
    message = str(shown) if isinstance(shown, AutoMLError) else f"Internal error: {type(err).__name__}: {err}"
    recorded = _try_update(exp, status=FAILED, error=message, finished=now_iso())
    if not recorded and not searched:
        shutil.rmtree(exp.path, ignore_errors=True)  # nothing of it can be kept: leave no half-made folder
    elif recorded and not isinstance(shown, AutoMLError):
        try:
            atomic_write_bytes(exp.file("errors.log"), traceback.format_exc().encode(), make_parent=False)
        except StorageError:
            pass
    return shown


def _stop_in_chain(err: BaseException) -> BaseException | None:
    """The stop (a signal's KeyboardInterrupt, SystemExit) ``err`` is or grew out of, if any.

    A second SIGTERM can land inside a library's own handling, which then fails on its way out with an
    error of its own: Optuna's ``_run_trial``, stopped while it told the storage a trial's result, raised
    UnboundLocalError over our ``Interrupted``. The stop is what ended the run, not that error.
    """
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, (KeyboardInterrupt, SystemExit)):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def _try_update(exp: Experiment, **fields) -> bool:
    try:
        exp.update(**fields)
    except (StorageError, OSError, ValueError):
        return False
    return True
