"""Drift tests as a registry: each test is a small declaration bound to a pure function.

Like Evidently's ``stattests``, a test only says how far apart two samples
are (a p-value or a distance) and declares which column kinds it applies to
and its default threshold; which test a column gets is a setting
(:class:`automl.monitor.DriftSettings`). Count-based tests (chi²,
Jensen–Shannon, PSI) accept raw values or counts per bucket
(``{bucket: count}``), which lets the monitor run them on the stored training
profile instead of the training rows. Adding a test is one decorated function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from automl.data import canonical_categories
from automl.monitor._profile import OTHER, quantile_edges, range_codes

P_VALUE, DISTANCE = "p_value", "distance"
NUMERIC, CATEGORICAL = "numeric", "categorical"
BOTH = (NUMERIC, CATEGORICAL)
PSI_EPSILON = 1e-4  # stands in for an empty bin's share, so PSI stays finite
PSI_BANDS = ((0.1, "stable"), (0.2, "moderate"), (float("inf"), "significant"))
Values = np.ndarray | pd.Series | list | Mapping[str, float]
TestFunction = Callable[[Values, Values], float]


@dataclass(frozen=True)
class DriftTest:
    """A drift test: what it applies to, how to read its number, and the function computing it."""

    name: str
    label: str
    column_kinds: tuple[str, ...]
    default_threshold: float
    kind: str  # P_VALUE: drift when below the threshold; DISTANCE: drift when at or above it
    function: TestFunction
    input: str = "counts"  # "values": needs raw numbers on both sides; "counts": buckets will do
    measures: str = ""  # what its number is, in words: the drift table's reasons say it

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
    """Add a test to the registry."""
    if test.kind not in (P_VALUE, DISTANCE):
        raise ValueError(f"The 'kind' of a drift test must be 'p_value' or 'distance'. Got {test.kind!r} instead.")
    DRIFT_TESTS[test.name] = test
    return test


def drift_test(name: str, label: str, column_kinds: tuple[str, ...], default_threshold: float, kind: str,
               input: str = "counts", measures: str = "") -> Callable[[TestFunction], TestFunction]:
    """Declare the decorated pure function a drift test and register it; the function itself is unchanged."""
    def bind(function: TestFunction) -> TestFunction:
        register(DriftTest(name, label, column_kinds, default_threshold, kind, function, input, measures))
        return function

    return bind


# -- counting ------------------------------------------------------------------
def _numbers(values: Values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr[np.isfinite(arr)]


def _value_counts(values: Values) -> dict[str, float]:
    """Counts per category, named by the model's rule (2, 2.0 and '2' are one), as the profiles are."""
    series = canonical_categories(pd.Series(np.asarray(values, dtype=object))).dropna()
    return {str(k): float(v) for k, v in series.value_counts(sort=False).items()}


def aligned_counts(reference: Values, current: Values) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the same buckets on both sides; current buckets the reference lacks are pooled in OTHER.

    Mappings are counts per bucket; raw numbers are binned on the reference's
    quantile edges, with a bucket below and one above the reference's range
    (see :func:`automl.monitor._profile.range_codes`); anything else is
    counted per category.
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
        counts = [np.bincount(c[c >= 0], minlength=len(edges) + 1).astype(float)
                  for c in (range_codes(ref_arr, edges), range_codes(cur_arr, edges))]
        return counts[0], counts[1], None
    return _aligned(_value_counts(ref_arr), _value_counts(cur_arr))


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else counts


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


# -- the tests ----------------------------------------------------------------------
@drift_test("ks", "KS", (NUMERIC,), 0.05, P_VALUE, input="values",
            measures="the largest gap between the two cumulative distributions")
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


@drift_test("wasserstein", "Wasserstein (std-normalised)", (NUMERIC,), 0.1, DISTANCE, input="values",
            measures="how far the values moved, in training standard deviations")
def wasserstein_std(reference: Values, current: Values) -> float:
    """Wasserstein distance in units of the reference's standard deviation (scale-free)."""
    std = float(np.std(_numbers(reference)))
    return wasserstein(reference, current) / (std if std > 0 else 1.0)


@drift_test("chi_square", "Chi-square", BOTH, 0.05, P_VALUE,
            measures="whether the shares per bucket differ by more than chance")
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


@drift_test("jensen_shannon", "Jensen–Shannon", BOTH, 0.1, DISTANCE,
            measures="how far apart the shares per bucket are (0 to 1)")
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


@drift_test("psi", "PSI", BOTH, 0.2, DISTANCE, measures="the change of shares per bucket, weighted by its log ratio")
def psi(reference: Values, current: Values) -> float:
    """Population stability index: sum of (current − reference) · ln(current / reference) over buckets.

    Buckets: the given ones for counts and categories; raw numbers get the
    reference's equal-frequency bins plus a bucket below and one above its
    range. A bucket empty on one side counts as a share of ``PSI_EPSILON``
    (1e-4), so live values beyond the training range weigh heavily: 1% of
    the rows there adds about 0.05, 5% about 0.3. The monitor's own PSI per
    column is :func:`automl.monitor._drift.column_psi` (on deciles).
    """
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
