"""Drift tests as a registry: one small definition per test, bound to a pure function.

Like Evidently, a test only says how far apart two samples are (a p-value or a
distance); which test a column gets, and the threshold, are settings
(:class:`DriftSettings`), so a user can override them per column. Count-based
tests (chi², Jensen–Shannon, PSI) accept raw values or counts per bucket
(``{bucket: count}``), which lets the monitor run them on the stored training
profile instead of the training rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, Union

import numpy as np
import pandas as pd
from scipy import stats

from automl.errors import AutoMLError

P_VALUE, DISTANCE = "p_value", "distance"
NUMERIC, CATEGORICAL = "numeric", "categorical"
OTHER = "__other__"  # bucket for categories beyond the stored ones and for unseen ones
N_BINS = 20
PSI_EPSILON = 1e-4  # stands in for an empty bin's share, so PSI stays finite
PSI_BANDS = ((0.1, "stable"), (0.2, "moderate"), (float("inf"), "significant"))
Values = Union[np.ndarray, pd.Series, list, Mapping[str, float]]


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


# -- buckets -------------------------------------------------------------------
def quantile_edges(values: np.ndarray, bins: int = N_BINS) -> np.ndarray:
    """Equal-frequency bin edges (duplicates merged), so every bin holds reference mass."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return np.array([0.0, 1.0])
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)))
    return edges if len(edges) > 1 else np.array([edges[0] - 0.5, edges[0] + 0.5])


def bin_codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value on the reference's edges (outside values go to the end bins), -1 if missing."""
    values = np.asarray(values, dtype=float)
    codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return np.where(np.isfinite(values), codes, -1)


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
    if isinstance(reference, Mapping):
        cur = current if isinstance(current, Mapping) else _value_counts(current)
        keys = list(reference)
        ref = np.array([reference[k] for k in keys], dtype=float)
        now = np.array([cur.get(k, 0.0) for k in keys], dtype=float)
        unseen = float(sum(v for k, v in cur.items() if k not in reference))
        if unseen:
            if OTHER in reference:
                now[keys.index(OTHER)] += unseen
            else:
                ref, now = np.append(ref, 0.0), np.append(now, unseen)
        return ref, now
    ref_arr, cur_arr = np.asarray(reference), np.asarray(current)
    if ref_arr.dtype.kind in "fiub" and cur_arr.dtype.kind in "fiub":
        edges = quantile_edges(ref_arr)
        counts = [np.bincount(c[c >= 0], minlength=len(edges) - 1).astype(float)
                  for c in (bin_codes(ref_arr, edges), bin_codes(cur_arr, edges))]
        return counts[0], counts[1]
    return aligned_counts(_value_counts(ref_arr), _value_counts(cur_arr))


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
    u, v = np.sort(_numbers(reference)), np.sort(_numbers(current))
    if not len(u) or not len(v):
        return 0.0
    points = np.sort(np.concatenate([u, v]))
    u_cdf = np.searchsorted(u, points[:-1], side="right") / len(u)
    v_cdf = np.searchsorted(v, points[:-1], side="right") / len(v)
    return float(np.sum(np.abs(u_cdf - v_cdf) * np.diff(points)))


def wasserstein_std(reference: Values, current: Values) -> float:
    """Wasserstein distance in units of the reference's standard deviation (scale-free)."""
    std = float(np.std(_numbers(reference)))
    return wasserstein(reference, current) / (std if std > 0 else 1.0)


def chi_square_p_value(reference: Values, current: Values) -> float:
    """Chi-square test of homogeneity on the 2 × buckets table of counts."""
    ref, cur = aligned_counts(reference, current)
    keep = (ref + cur) > 0
    table = np.vstack([ref[keep], cur[keep]])
    if table.shape[1] < 2 or table[0].sum() == 0 or table[1].sum() == 0:
        return 1.0
    return float(stats.chi2_contingency(table).pvalue)


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
    small_reference: int = 1000  # up to this many reference rows: KS / chi²; above: Wasserstein / JS
    low_cardinality: int = 5  # numbers with at most this many distinct values are tested as categories
    tests: dict[str, str] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    period: str | None = None  # "D" or "W" for drift over time; None picks by the time span

    def __post_init__(self) -> None:
        for name in ("p_value", "distance", "dataset_share", "importance_share", "missing_change"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= (1 if name != "distance" else 10):
                raise AutoMLError(f"The '{name}' threshold must be in (0, 1]. Got {value} instead.",
                                  "Use e.g. 0.05 for p-values, 0.1 for distances, 0.5 for the dataset share.")
        unknown = {c: t for c, t in self.tests.items() if t not in DRIFT_TESTS}
        if unknown:
            raise AutoMLError(f"Unknown drift test(s) {unknown}.", f"Use one of: {', '.join(DRIFT_TESTS)}.")
        if self.period not in (None, "D", "W"):
            raise AutoMLError(f"The period must be 'D' (day) or 'W' (week). Got {self.period!r} instead.",
                              "Use 'D' or 'W', or leave it empty to choose by the time span.")

    def choose(self, column: str, column_kind: str, n_distinct: int, reference_rows: int) -> tuple[DriftTest, float]:
        """The test and threshold for a column: the user's override, else Evidently's default by type and size."""
        tested_as = NUMERIC if column_kind == NUMERIC and n_distinct > self.low_cardinality else CATEGORICAL
        if column in self.tests:
            test = DRIFT_TESTS[self.tests[column]]
            if tested_as not in test.column_kinds:
                raise AutoMLError(f"The test '{test.name}' does not apply to the {tested_as} column '{column}'.",
                                  f"Choose one of: {', '.join(n for n, t in DRIFT_TESTS.items() if tested_as in t.column_kinds)}.")
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
