"""What defines a search (:class:`FitConfig`), and every check its arguments must pass before an experiment exists.

Why here and declared: a bad argument found after the experiment folder was made leaves a ``queued``
experiment nobody can delete; ``nan`` and ``inf`` slip through hand-written comparisons. The table
:data:`FIT_CONSTRAINTS` is the one list of what each argument may be (checked by :mod:`automl._params`);
:func:`check_against_data` adds what depends on the table (folds per class, held-out rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from automl._params import Interval, Options, Satisfies, Text, TextList, validate_params
from automl.data import REGRESSION, TASKS
from automl.errors import AutoMLError

NETWORK_SCHEMES = ("postgresql", "postgres", "mysql")  # shared databases; SQLite only inside the workspace
MAX_BUDGET_S = 1e7  # ~4 months: a budget, not "forever"


def storage_scheme_allowed(url: str) -> bool:
    scheme, sep, rest = url.strip().partition("://")
    base = scheme.lower().split("+")[0]
    return bool(sep and rest) and (base in NETWORK_SCHEMES or (base == "sqlite" and rest.startswith("/")))


FIT_CONSTRAINTS = {
    "task": [Options(TASKS), None],
    "time_budget": [Interval(Real, 0, MAX_BUDGET_S, closed="right"), None],
    "trials": [Interval(Integral, 1, 1_000_000), None],
    "metric": [Text(1, 50), None],
    "seed": [Interval(Integral, 0, 2**32, closed="left")],
    "cv_folds": [Interval(Integral, 2, 20), None],
    "holdout": [Interval(Real, 0, 0.5, closed="right")],
    "algorithms": [TextList(), None],
    "ensemble": [Options((True, False))],
    "refit_full": [Options((True, False))],
    "onnx_only": [Options((True, False))],
    "exclude": [TextList()],
    "storage": [Satisfies(storage_scheme_allowed, "a database URL (postgresql://…, mysql://…, or sqlite:///… "
                                                  "inside the workspace)"), None],
    "name": [Text(1, 200), None],
}
FIXES = {
    "time_budget": "Give a number of seconds, e.g. --time-budget 60.",
    "trials": "Give a number of trials, e.g. --trials 50.",
    "seed": "Give a whole number from 0 to 4294967295, e.g. --seed 0.",
    "cv_folds": "Use 3, 5 or 10 (or leave it out: 5 up to 10,000 training rows, 3 above).",
    "holdout": "Use 0.2 (the default) unless the table is very small or very large.",
    "storage": "Leave --storage out (the study is kept in the experiment folder), or give a PostgreSQL URL.",
    "name": "Give a short name (at most 200 characters).",
    "task": f"Use one of {', '.join(TASKS)}.",
}


def validate_fit_params(params: dict) -> None:
    """Check the arguments of ``fit`` against :data:`FIT_CONSTRAINTS`."""
    validate_params(params, FIT_CONSTRAINTS, "fit", FIXES)


@dataclass
class FitConfig:
    """Everything that defines a search; stored in experiment.json so it can be re-run."""

    target: str
    task: str | None = None
    time_budget: float | None = None
    trials: int | None = None
    metric: str | None = None
    seed: int = 0
    cv_folds: int | None = None  # None: 5 up to AUTO_FOLDS_ROWS training rows, 3 above (see auto_folds)
    holdout: float = 0.2
    algorithms: list[str] | None = None
    ensemble: bool = True
    refit_full: bool = True  # after the held-out report, refit the chosen model on all rows (automl.final)
    onnx_only: bool = False  # search (and so ensemble) only algorithms whose model exports to ONNX
    exclude: list[str] = field(default_factory=list)
    storage: str | None = None
    source: str | None = None  # where the table came from (a path), for re-runs and workers
    holdout_path: str | None = None  # fixed held-out rows (e.g. a champion's), instead of a random split

    def __post_init__(self) -> None:
        validate_fit_params(vars(self))
        if self.time_budget is None and self.trials is None:
            self.time_budget = 60.0


def check_storage(url: str | None, workspace: str | Path) -> None:
    """A SQLite study must live inside the workspace (``sqlite:////etc/passwd`` would open any file)."""
    if url is None or not url.strip().lower().startswith("sqlite"):
        return
    path = url.strip().partition("://")[2][1:].split("?")[0]
    root = Path(workspace).resolve()
    try:
        inside = bool(path) and Path(path).resolve().is_relative_to(root)
    except (OSError, ValueError):
        inside = False
    if not inside:
        raise AutoMLError(f"The 'storage' parameter of fit must be a SQLite file inside the workspace '{root.name}'. "
                          f"Got {url[:80]!r} instead.", FIXES["storage"])


def check_against_data(config: FitConfig, train_y: pd.Series, hold_y: pd.Series | None, task: str) -> None:
    """The checks that need the table: held-out rows per class, and CV folds a class can fill (after the split)."""
    n = len(train_y) + (0 if hold_y is None else len(hold_y))
    classes = train_y.nunique() if task != REGRESSION else 1
    n_hold = len(hold_y) if hold_y is not None else math.ceil(config.holdout * n)
    if n_hold < max(2, classes):
        raise AutoMLError(f"The 'holdout' parameter of fit must leave at least {max(2, classes)} held-out rows "
                          f"(one per class); {config.holdout:g} of {n} rows leaves {n_hold}.",
                          "Raise --holdout, or add rows to the table.")
    if config.cv_folds is None or task == REGRESSION:
        if task == REGRESSION and config.cv_folds is not None and len(train_y) < 2 * config.cv_folds:
            raise AutoMLError(f"The 'cv_folds' parameter of fit must be at most {len(train_y) // 2} for "
                              f"{len(train_y)} training rows. Got {config.cv_folds} instead.", FIXES["cv_folds"])
        return
    counts = train_y.value_counts()
    if counts.min() < config.cv_folds:
        raise AutoMLError(f"The 'cv_folds' parameter of fit must be at most {counts.min()}: after holding out rows, "
                          f"class {counts.idxmin()!r} has {counts.min()} training rows. Got {config.cv_folds} instead.",
                          "Use fewer folds (or leave --cv-folds out), or add rows of that class.")
