"""SIGTERM and SIGINT end a search the way the dashboard's Cancel does.

The first signal asks the experiment to cancel (in this process at once, and through the flag file
for its workers): the search stops at the fit's next clock check, keeps its trials and refits the
best so far. A second signal, or a signal where there is nothing to keep, raises :class:`Interrupted`
at once; the caller records the experiment as cancelled (resumable) and exits 128 + the signal.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

from automl.experiment._files import storage_fault
from automl.experiment._store import Experiment

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(KeyboardInterrupt):
    """A stop signal that must end the process now; a KeyboardInterrupt so every ``except Exception`` lets it by."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopSignals:
    """While inside: the first SIGTERM/SIGINT cancels ``exp``; the second (or any, without ``exp``) raises.

    ``exit_code`` is 128 + the first signal (130 for Ctrl-C, 143 for SIGTERM), None if none came.
    Outside the main thread (where Python can't take signals) it does nothing.
    """

    def __init__(self, exp: Experiment | None = None, quiet: bool = False) -> None:
        self.exp, self.quiet = exp, quiet
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}
        self._hook = threading.excepthook

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else 128 + self.signum

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
            self._hook, threading.excepthook = threading.excepthook, _quiet_storage_faults
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self._previous:
            threading.excepthook = self._hook
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:  # noqa: ARG002 - the handler signature
        first = self.signum is None
        self.signum = self.signum or signum
        if not first or self.exp is None:
            # Optuna logs the interrupted trial with its traceback; a stop asked for is not an error.
            logging.getLogger("optuna").setLevel(logging.ERROR)
            raise Interrupted(signum)
        if not self.quiet:
            print(f"\n{signal.Signals(signum).name}: stopping the search and keeping the best model so far "
                  "(send it again to quit at once).", file=sys.stderr, flush=True)
        try:
            self.exp.request_cancel()
        except Exception:  # noqa: BLE001 - the in-process cancel is already set; the flag file is a courtesy
            pass


def _quiet_storage_faults(args: threading.ExceptHookArgs) -> None:
    """A disk fault (or a removed folder) in a helper thread, such as Optuna's heartbeat, is reported once, by
    the main thread that meets it next, instead of as a thread's traceback."""
    if args.exc_value is not None and storage_fault(args.exc_value, "study.db") is not None:
        return
    threading.__excepthook__(args)
