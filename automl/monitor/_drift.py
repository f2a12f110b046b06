"""Drift tests as a registry: one small definition per test, bound to a pure function.

Like Evidently, a test only says how far apart two samples are (a p-value or a
distance); which test a column gets, and the threshold, are settings
(:class:`DriftSettings`), so a user can override them per column. Count-based
tests (chi², Jensen–Shannon, PSI) accept raw values or counts per bucket
(``{bucket: count}``), which lets the monitor run them on the stored training
profile instead of the training rows. The end of the module compares one live
column with its profile: converted once into bucket codes, then tested on all
rows or on any slice of them (a day, a week).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from automl.errors import AutoMLError
from automl.monitor._reference import OTHER, bin_codes, bucket_codes, buckets, quantile_edges

P_VALUE, DISTANCE = "p_value", "distance"
NUMERIC, CATEGORICAL = "numeric", "categorical"
PSI_EPSILON = 1e-4  # stands in for an empty bin's share, so PSI stays finite
PSI_BANDS = ((0.1, "stable"), (0.2, "moderate"), (float("inf"), "significant"))
Values = np.ndarray | pd.Series | list | Mapping[str, float]


@dataclass(frozen=True)
class DriftTest:
    """A drift test: what it applies to, how to read its number, and the function computing it."""

    name: str
    label: str
    column_kinds: tuple[str, ...]
    default_threshold: float
    kind: str  # P_VALUE: drift when below the threshold; DISTANCE: drift when at or above it
    function: Callable[[Values, Values], float]
    input: str = "counts"  # "values": needs raw numbers on both sides; "counts": buckets will do

    def __call__(self, reference: Values, current: Values) -> float:
        return float(self.function(reference, current))

    def drifted(self, value: float, threshold: float | None = None) -> bool:
        threshold = self.default_threshold if threshold is None else threshold
        return bool(value < threshold) if self.kind == P_VALUE else bool(value >= threshold)

    def score(self, value: float, threshold: float) -> float:
        """How far past the threshold, on one scale for every test: 1 = at the threshold, above = drift."""
        if self.kind == P_VALUE:
            return float(np.log(max(value, 1e-300)) / np.log(threshold))
        return float(value / threshold) if threshold > 0 else float("inf")


DRIFT_TESTS: dict[str, DriftTest] = {}


def register(test: DriftTest) -> DriftTest:
    """Add a test to the registry; adding a test is this one call."""
    if test.kind not in (P_VALUE, DISTANCE):
        raise ValueError(f"The 'kind' of a drift test must be 'p_value' or 'distance'. Got {test.kind!r} instead.")
    DRIFT_TESTS[test.name] = test
    return test


# -- counting ------------------------------------------------------------------
def _numbers(values: Values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[np.isfinite(arr)]


def _value_counts(values: Values) -> dict[str, float]:
    series = pd.Series(np.asarray(values, dtype=object)).dropna()
    return {str(k): float(v) for k, v in series.astype(str).value_counts(sort=False).items()}


def aligned_counts(reference: Values, current: Values) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the same buckets on both sides; current buckets the reference lacks are pooled in OTHER.

    Mappings are counts per bucket; raw numbers are binned on the reference's
    quantile edges; anything else is counted per category.
    """
    ref, cur, _ = _aligned(reference, current)
    return ref, cur


def _aligned(reference: Values, current: Values) -> tuple[np.ndarray, np.ndarray, int | None]:
    """:func:`aligned_counts` and the index of the OTHER bucket (None if there is none)."""
    if isinstance(reference, Mapping):
        cur = current if isinstance(current, Mapping) else _value_counts(current)
        keys = list(reference)
        ref = np.array([reference[k] for k in keys], dtype=float)
        now = np.array([cur.get(k, 0.0) for k in keys], dtype=float)
        other = keys.index(OTHER) if OTHER in reference else None
        unseen = float(sum(v for k, v in cur.items() if k not in reference))
        if unseen and other is not None:
            now[other] += unseen
        elif unseen:
            ref, now, other = np.append(ref, 0.0), np.append(now, unseen), len(keys)
        return ref, now, other
    ref_arr, cur_arr = np.asarray(reference), np.asarray(current)
    if ref_arr.dtype.kind in "fiub" and cur_arr.dtype.kind in "fiub":
        edges = quantile_edges(ref_arr)
        counts = [np.bincount(c[c >= 0], minlength=len(edges) - 1).astype(float)
                  for c in (bin_codes(ref_arr, edges), bin_codes(cur_arr, edges))]
        return counts[0], counts[1], None
    return _aligned(_value_counts(ref_arr), _value_counts(cur_arr))


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else counts


# -- the tests ----------------------------------------------------------------------
def ks_p_value(reference: Values, current: Values) -> float:
    """Two-sample Kolmogorov–Smirnov p-value on the raw numbers."""
    ref, cur = _numbers(reference), _numbers(current)
    if not len(ref) or not len(cur):
        return 1.0
    return float(stats.ks_2samp(ref, cur).pvalue)


def wasserstein(reference: Values, current: Values) -> float:
    """Earth mover's distance between two samples: the area between their CDFs."""
    u, v = _numbers(reference), _numbers(current)
    if not len(u) or not len(v):
        return 0.0
    # One sort of both samples; walking it, F_u − F_v steps by +1/n or −1/m (ties add zero-width steps).
    values = np.concatenate([u, v])
    order = np.argsort(values)
    gap = np.cumsum(np.where(order < len(u), 1.0 / len(u), -1.0 / len(v)))
    return float(np.sum(np.abs(gap[:-1]) * np.diff(values[order])))


def wasserstein_std(reference: Values, current: Values) -> float:
    """Wasserstein distance in units of the reference's standard deviation (scale-free)."""
    std = float(np.std(_numbers(reference)))
    return wasserstein(reference, current) / (std if std > 0 else 1.0)


def chi_square_p_value(reference: Values, current: Values) -> float:
    """Chi-square test of homogeneity on the 2 × buckets table of counts.

    Buckets expected to hold fewer than 5 rows on either side are pooled first
    (Cochran's rule), into the OTHER bucket when there is one: the chi²
    approximation is poor for them, and on real tables rare categories would
    otherwise raise false alarms.
    """
    ref, cur, other = _aligned(reference, current)
    nonzero = (ref + cur) > 0
    table = np.vstack([ref, cur])[:, nonzero]
    if table.shape[1] < 2 or table[0].sum() == 0 or table[1].sum() == 0:
        return 1.0
    into = int(nonzero[:other].sum()) if other is not None and nonzero[other] else None
    table = pool_sparse(table, into=into)
    if table.shape[1] < 2:
        return 1.0
    return float(stats.chi2_contingency(table).pvalue)


def pool_sparse(table: np.ndarray, minimum: float = 5.0, into: int | None = None) -> np.ndarray:
    """Merge the columns of a 2 × k table with an expected count below ``minimum`` into one column.

    ``into``: a column the sparse ones join (the OTHER bucket). If the pool is
    still sparse, the smallest remaining columns join it too.
    """
    rows, total = table.sum(axis=1), table.sum()
    sparse = (np.outer(rows, table.sum(axis=0)) / total < minimum).any(axis=0)
    if not sparse.any():
        return table
    if into is not None:
        sparse[into] = True
    kept, pooled = table[:, ~sparse], table[:, sparse].sum(axis=1, keepdims=True)
    while kept.shape[1] and (rows[:, None] * pooled.sum() / total < minimum).any():
        smallest = int(np.argmin(kept.sum(axis=0)))
        pooled, kept = pooled + kept[:, [smallest]], np.delete(kept, smallest, axis=1)
    return np.hstack([kept, pooled])


def jensen_shannon(reference: Values, current: Values) -> float:
    """Jensen–Shannon distance (base 2, so between 0 and 1) between the bucket shares."""
    ref, cur = aligned_counts(reference, current)
    if ref.sum() == 0 or cur.sum() == 0:
        return 0.0
    p, q = _shares(ref), _shares(cur)
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return float(np.sqrt(max((kl(p) + kl(q)) / 2, 0.0)))


def psi(reference: Values, current: Values) -> float:
    """Population stability index: sum of (current − reference) · ln(current / reference) over buckets."""
    ref, cur = aligned_counts(reference, current)
    if ref.sum() == 0 or cur.sum() == 0:
        return 0.0
    p = np.maximum(_shares(ref), PSI_EPSILON)
    q = np.maximum(_shares(cur), PSI_EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_band(value: float | None) -> str | None:
    """The usual reading of a PSI: < 0.1 stable, 0.1–0.2 moderate, ≥ 0.2 significant."""
    if value is None:
        return None
    return next(label for bound, label in PSI_BANDS if value < bound)


BOTH = (NUMERIC, CATEGORICAL)
register(DriftTest("ks", "Kolmogorov–Smirnov", (NUMERIC,), 0.05, P_VALUE, ks_p_value, input="values"))
register(DriftTest("wasserstein", "Wasserstein (std-normalised)", (NUMERIC,), 0.1, DISTANCE, wasserstein_std,
                   input="values"))
register(DriftTest("chi_square", "Chi-square", BOTH, 0.05, P_VALUE, chi_square_p_value))
register(DriftTest("jensen_shannon", "Jensen–Shannon", BOTH, 0.1, DISTANCE, jensen_shannon))
register(DriftTest("psi", "PSI", BOTH, 0.2, DISTANCE, psi))


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
    row["distribution"] = {"labels": col.labels, "edges": col.profile.get("edges") if "values" not in col.profile
                           and col.profile["profile"] == NUMERIC else None,
                           "reference": _share_list(col.ref_counts), "live": _share_list(live_counts)}
    return row


def column_psi(col: ColumnData, live_counts: np.ndarray) -> float:
    """PSI on deciles for binned numbers (the usual PSI; 20 bins would double its noise), else per bucket."""
    ref, live = col.ref_counts, live_counts
    if col.profile["profile"] == NUMERIC and "values" not in col.profile:
        starts = np.arange(0, len(ref), 2)
        ref, live = np.add.reduceat(ref, starts), np.add.reduceat(live, starts)
    keys = [str(i) for i in range(len(ref))]
    return psi(dict(zip(keys, ref)), dict(zip(keys, live)))


def _share_list(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total if total else counts).tolist()
