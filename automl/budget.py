"""Wall-clock accounting for one ``fit``: how long the search may still run.

The whole fit (search, refit, held-out evaluation, saving) must end within
the user's budget, so the search stops early enough to leave room for the
refit of the best model, which we estimate from its own fold times.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


class TimeUp(Exception):
    """Raised inside a fit that would run past the search deadline."""


@dataclass
class Budget:
    total_s: float | None  # None: no time limit (a trial budget only)
    start: float = field(default_factory=time.monotonic)
    refit_reserve_s: float = 2.0  # grows with the best model's measured cost

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def remaining(self) -> float:
        return float("inf") if self.total_s is None else self.total_s - self.elapsed()

    def search_remaining(self) -> float:
        """Seconds the search may still use, keeping the refit's share aside."""
        return self.remaining() - self.refit_reserve_s

    def reserve_for_refit(self, fold_seconds: float, folds: int, n_rows: int) -> None:
        """Keep room for refitting a model whose CV folds took ``fold_seconds`` each."""
        refit = fold_seconds * folds / max(folds - 1, 1) * 1.25
        saving = 1.0 + n_rows * 4e-6  # predictions, parquet files, reference profile
        self.refit_reserve_s = max(self.refit_reserve_s, refit + saving)
