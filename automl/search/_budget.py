"""Wall-clock accounting for one ``fit``: how long the search may still run.

The whole fit (search, refit, held-out evaluation, saving) must end within
the user's budget, so the search stops early enough to leave room for the
refit of the best model, which we estimate from its own fold times.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_COUNTED_S = 15.0


def process_started() -> float:
    """The ``time.monotonic()`` reading when this process started, so that a command's budget counts what its
    user waits for: the interpreter's start and the imports (about 3 s), at most ``STARTUP_COUNTED_S`` (reading a
    huge table first is not the search's time); now, if it can't be told."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        age = float(Path("/proc/uptime").read_text().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.monotonic()
    return time.monotonic() - min(max(age, 0.0), STARTUP_COUNTED_S)


@dataclass
class Budget:
    total_s: float | None  # None: no time limit (a trial budget only)
    start: float = field(default_factory=time.monotonic)
    refit_reserve_s: float = 2.0  # grows with the best model's measured cost
    refits: float = 1.0  # refits of the training rows' size the reserve pays for (part of the optional all-rows one)

    @classmethod
    def until(cls, deadline: float | None, reserve_s: float = 0.0) -> Budget:
        """A budget ending at the wall-clock time ``deadline`` (epoch seconds; None: no limit).

        Workers on other machines share the leader's deadline through experiment.json;
        epoch time, unlike ``time.monotonic``, means the same on every machine (given NTP).
        """
        if deadline is None:
            return cls(None, refit_reserve_s=reserve_s)
        return cls(max(deadline - time.time(), 0.0), refit_reserve_s=reserve_s)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        return float("inf") if self.total_s is None else self.total_s - self.elapsed()

    def search_remaining(self) -> float:
        """Seconds the search may still use, keeping the refit's share aside."""
        return self.remaining() - self.refit_reserve_s

    def reserve_for_refit(self, fold_seconds: float, folds: int, n_rows: int, save_s: float = 0.0) -> None:
        """Keep room for refitting a model whose CV folds took ``fold_seconds`` each, and ``save_s`` to write it
        (a forest's many trees take seconds in skops)."""
        # No safety margin here: a fold's time already holds its prediction and early stopping's extra rounds,
        # and the finish drops ensemble members or the all-rows refit that would not fit (adult: a reserve
        # with the margin, for five members, ended the search at 25 s of 60 and the fit at 34 s).
        reserve = self.refits * self.refit_estimate(fold_seconds, folds, n_rows, margin=1.0) + save_s
        self.refit_reserve_s = max(self.refit_reserve_s, reserve)

    @staticmethod
    def refit_estimate(fold_seconds: float, folds: int, n_rows: int, margin: float = 1.25) -> float:
        """Seconds to refit on all ``n_rows`` training rows and save, from one CV fold's time."""
        refit = fold_seconds * folds / max(folds - 1, 1) * margin
        # Predictions on the held-out rows, parquet files, reference profile: measured at about
        # 15 s per million training rows on a busy 2-core machine (bench/scale.py).
        saving = 1.0 + n_rows * 1.5e-5
        return refit + saving
