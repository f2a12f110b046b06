"""Drift detection settings, and one live column compared with its training profile.

Which test a column gets, and the threshold, are settings (:class:`DriftSettings`),
so a user can override them per column; the tests themselves are the registry
in :mod:`automl.monitor._stattests`. A live column is converted once into
bucket codes against its profile, then tested on all rows or on any slice of
them (a day, a week).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from automl.errors import AutoMLError
from automl.monitor._bins import union_distribution
from automl.monitor._profile import bucket_codes, buckets
from automl.monitor._reasons import drift_reason
from automl.monitor._stattests import CATEGORICAL, DRIFT_TESTS, NUMERIC, P_VALUE, DriftTest, psi, psi_band


# -- settings ----------------------------------------------------------------------
@dataclass
class DriftSettings:
    """Thresholds and test choices; everything a user may change about drift detection.

    ``p_value`` / ``distance`` override the tests' default thresholds (0.05 and
    0.1); ``tests`` and ``thresholds`` override them for single columns.
    """

    p_value: float | None = None
    distance: float | None = None
    dataset_share: float = 0.5  # dataset drift: at least this share of features drifted
    importance_share: float = 0.25  # drift "matters": drifted features carry at least this much importance
    missing_change: float = 0.05  # report a column whose missing rate moved by this much
    small_reference: int = 1000  # up to this many rows: KS / chi²; above: Wasserstein / JS
    # Which size picks the test: "smaller" of the reference's and the live batch's (a 300-row batch gets
    # p-value tests, whose false-alarm rate allows for its size), or "reference" alone (Evidently's rule).
    choose_by: str = "smaller"
    low_cardinality: int = 5  # numbers with at most this many distinct values are tested as categories
    tests: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    period: str | None = None  # "D" or "W" for drift over time; None picks by the time span

    def __post_init__(self) -> None:
        for name in ("p_value", "distance", "dataset_share", "importance_share", "missing_change"):
            value = getattr(self, name)
            top = 10 if name == "distance" else 1
            if value is not None and not (0 < value <= top and (name != "p_value" or value < 1)):
                raise AutoMLError(f"The '{name}' threshold must be in (0, {top}]. Got {value} instead.",
                                  "Use e.g. 0.05 for p-values, 0.1 for distances, 0.5 for the dataset share.")
        unknown = {c: t for c, t in self.tests.items() if t not in DRIFT_TESTS}
        if unknown:
            raise AutoMLError(f"Unknown drift test(s) {unknown}.", f"Use one of: {', '.join(DRIFT_TESTS)}.")
        if self.choose_by not in ("smaller", "reference"):
            raise AutoMLError(f"'choose_by' must be 'smaller' or 'reference'. Got {self.choose_by!r} instead.",
                              "Use 'smaller' (the default) or 'reference' (Evidently's rule).")
        if self.period not in (None, "D", "W"):
            raise AutoMLError(f"The period must be 'D' (day) or 'W' (week). Got {self.period!r} instead.",
                              "Use 'D' or 'W', or leave it empty to choose by the time span.")

    def choose(self, column: str, column_kind: str, n_distinct: int, reference_rows: int) -> tuple[DriftTest, float]:
        """The test and threshold for a column: the user's override, else Evidently's default by type and size."""
        tested_as = NUMERIC if column_kind == NUMERIC and n_distinct > self.low_cardinality else CATEGORICAL
        if column in self.tests:
            test = DRIFT_TESTS[self.tests[column]]
            if tested_as not in test.column_kinds:
                allowed = ", ".join(n for n, t in DRIFT_TESTS.items() if tested_as in t.column_kinds)
                raise AutoMLError(f"The test '{test.name}' does not apply to the {tested_as} column '{column}'.",
                                  f"Choose one of: {allowed}.")
        else:
            small = reference_rows <= self.small_reference
            name = ("ks" if small else "wasserstein") if tested_as == NUMERIC else (
                "chi_square" if small else "jensen_shannon")
            test = DRIFT_TESTS[name]
        if column in self.thresholds:
            return test, float(self.thresholds[column])
        override = self.p_value if test.kind == P_VALUE else self.distance
        return test, float(test.default_threshold if override is None else override)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> DriftSettings:
        return cls(**(data or {}))


# -- one column against its reference profile ----------------------------------------
FALLBACK = {"ks": "chi_square", "wasserstein": "jensen_shannon"}  # when no raw sample is stored


@dataclass
class ColumnData:
    """One column converted once: the live bucket codes and values, and what the reference holds."""

    name: str
    kind: str
    test: DriftTest
    threshold: float
    labels: list[str]
    ref_counts: np.ndarray
    codes: np.ndarray
    values: np.ndarray | None
    sample: np.ndarray | None
    profile: dict[str, Any]
    new: list[str]
    rows: int  # reference rows with a value: what picks the test


def prepare_column(name: str, profile: dict, live: pd.Series, sample: list | None, rows: int,
                   settings: DriftSettings) -> ColumnData:
    """Convert a live column once against its profile (``sample``: the reference's raw values, if stored)."""
    # The size that decides KS/chi² vs distance is the full training size, counting only rows with a value.
    rows = int(round(rows * (1 - profile.get("missing_rate", 0.0))))
    ref_values = np.asarray(sample, dtype=float) if sample and profile["profile"] == NUMERIC else None
    labels, ref_counts = buckets(profile)
    codes, values, new = bucket_codes(profile, live)
    col = ColumnData(name, profile["kind"], DRIFT_TESTS["psi"], 0.0, labels, ref_counts, codes, values, ref_values,
                     profile, new, rows)
    return with_test(col, int((codes >= 0).sum()), settings)


def with_test(col: ColumnData, live_rows: int, settings: DriftSettings) -> ColumnData:
    """``col`` with the test (and threshold) for a comparison with ``live_rows`` rows."""
    rows = min(col.rows, live_rows) if settings.choose_by == "smaller" else col.rows
    test, threshold = settings.choose(col.name, col.profile["profile"], col.profile.get("n_distinct", 0), rows)
    if test.input == "values" and (col.sample is None or not np.isfinite(col.sample).any()):
        test = DRIFT_TESTS[FALLBACK[test.name]]
    return replace(col, test=test, threshold=threshold)


def compare_column(col: ColumnData, idx: np.ndarray | None = None, detail: bool = True) -> dict[str, Any]:
    """One row of the drift table for ``col`` (restricted to live rows ``idx``); ``detail`` adds missing
    rates, new categories, out-of-range share and the distributions the plots draw."""
    codes = col.codes if idx is None else col.codes[idx]
    present = codes >= 0
    live_counts = np.bincount(codes[present], minlength=len(col.labels)).astype(float)
    row: dict[str, Any] = {"column": col.name, "kind": col.kind, "test": col.test.name, "statistic": None,
                           "p_value": None, "distance": None, "threshold": col.threshold, "drifted": False,
                           "score": None, "psi": None, "psi_band": None}
    if present.any():
        ref_map, live_map = dict(zip(col.labels, col.ref_counts)), dict(zip(col.labels, live_counts))
        if col.test.input == "values":
            values = col.values if idx is None else col.values[idx]
            stat = col.test(col.sample, values[present])
        else:
            stat = col.test(ref_map, live_map)
        row.update(statistic=stat, drifted=col.test.drifted(stat, col.threshold),
                   score=col.test.score(stat, col.threshold), psi=column_psi(col, live_counts))
        row["p_value" if col.test.kind == "p_value" else "distance"] = stat
        row["psi_band"] = psi_band(row["psi"])
    if not detail:
        return row
    missing_live = float(1 - present.mean()) if len(codes) else 0.0
    row.update(missing_ref=col.profile["missing_rate"], missing_live=missing_live, missing_changed=False,
               new_categories=col.new[:10], out_of_range=None, importance=None)
    if col.values is not None and "quantiles" in col.profile and present.any():
        v = col.values[present]
        low, high = col.profile["quantiles"]["0"], col.profile["quantiles"]["100"]
        row["out_of_range"] = float(np.mean((v < low) | (v > high)))
    if binned(col) and present.any():
        row["distribution"] = union_distribution(col.profile, col.sample, col.values[present])
    else:
        row["distribution"] = {"labels": col.labels, "edges": None, "reference": _share_list(col.ref_counts),
                               "live": _share_list(live_counts)}
    n_ref = int(np.isfinite(col.sample).sum()) if col.test.input == "values" else int(col.ref_counts.sum())
    row["reason"] = drift_reason(col.test, row, n_ref, int(present.sum()), _psi_bins(col),
                                 int(col.ref_counts.sum()))
    return row


def column_psi(col: ColumnData, live_counts: np.ndarray) -> float:
    """PSI of one column; how its bins are chosen, so its usual bands keep their meaning.

    Binned numbers: the training deciles (pairs of the profile's 20 equal-
    frequency bins; 20 bins would double PSI's noise), the bins the usual
    reading (< 0.1 stable, ≥ 0.2 significant) was set on, plus one bin below
    and one above the training range. Those two are empty in training (a
    share of ``PSI_EPSILON``), so live values the model never saw count as the
    shift they are instead of vanishing into an end decile whose width hides
    them; with no live value out of range, PSI is the usual decile PSI.
    Exact values and categories: one bucket each, unseen ones in OTHER.
    """
    ref, live = col.ref_counts, live_counts
    if binned(col):
        starts = np.arange(0, len(ref) - 2, 2)
        ref, live = ([c[0], *np.add.reduceat(c[1:-1], starts), c[-1]] for c in (ref, live))
    keys = [str(i) for i in range(len(ref))]
    return psi(dict(zip(keys, ref)), dict(zip(keys, live)))


def _psi_bins(col: ColumnData) -> int:
    """PSI's buckets with training mass: what its noise grows with."""
    return (len(col.ref_counts) - 1) // 2 if binned(col) else int((col.ref_counts > 0).sum())


def binned(col: ColumnData) -> bool:
    """A number profiled as equal-frequency bins (not as its few exact values)."""
    return col.profile["profile"] == NUMERIC and "values" not in col.profile


def _share_list(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total if total else counts).tolist()
