"""Why a feature is (or is not) flagged, in one sentence, and why its PSI band may say otherwise.

The test that decides is a p-value test (KS, chi²) or a distance
(Wasserstein, Jensen–Shannon), chosen by column type and size; the PSI band
beside it is a fixed reading of one number. They answer different
questions, so they can disagree, and the table says why rather than leave
two verdicts side by side.
"""

from __future__ import annotations

from typing import Any

from automl.monitor._stattests import P_VALUE, PSI_BANDS, DriftTest

STABLE = PSI_BANDS[0][1]
MODERATE_FROM = PSI_BANDS[0][0]


def _p(value: float) -> str:
    return "p < 0.0001" if value < 1e-4 else f"p = {value:.2g}"


def psi_noise(n_bins: int, n_reference: int, n_live: int) -> float:
    """The PSI two samples of the same distribution show on average: about (bins − 1)(1/n + 1/m)."""
    return (n_bins - 1) * (1 / max(n_live, 1) + 1 / max(n_reference, 1))


def drift_reason(test: DriftTest, row: dict[str, Any], n_reference: int, n_live: int, n_bins: int,
                 psi_reference: int | None = None) -> str:
    """The verdict, the number and threshold that decided it, the rows it was computed on, and PSI's reading.

    ``n_reference`` / ``n_live``: the rows the test compared (for raw-value
    tests, the stored training sample); ``n_bins`` and ``psi_reference``: PSI's
    buckets and training rows (all of them: PSI reads the profile).
    """
    stat, threshold = row.get("statistic"), row["threshold"]
    if stat is None:
        return "not tested: no live values"
    verdict = "drifted" if row["drifted"] else "no drift"
    if test.kind == P_VALUE:
        decided = f"{test.label} {_p(stat)} ({'<' if row['drifted'] else '≥'} {threshold:g})"
    else:
        decided = f"{test.label} = {stat:.3g} ({'≥' if row['drifted'] else '<'} {threshold:g})"
    text = f"{verdict}: {decided} on {n_reference:,} training and {n_live:,} live rows"
    value, band = row.get("psi"), row.get("psi_band")
    if value is None or test.name == "psi":
        return text
    text += f"; PSI {value:.2g} '{band}'"
    if row["drifted"] and band == STABLE:
        if test.kind == P_VALUE:
            return (f"{text} because PSI measures the size of the shift, the {test.label} test its significance: "
                    f"with {n_live:,} live rows, even a small shift is significant")
        return (f"{text} because {test.label} ({test.measures}) flags a change from {threshold:g} on, a smaller "
                f"one than PSI's '{STABLE}' band (< {MODERATE_FROM:g}) lets pass")
    if not row["drifted"] and band != STABLE:
        beyond = row.get("out_of_range") or 0.0
        if beyond > 0:
            text += (f", largely from the {beyond:.1%} of live values beyond the training range, a bin training "
                     "never filled, which PSI weighs heavily")
        if test.kind == P_VALUE:
            return (f"{text}; the {test.label} test does not find the shift significant: on {n_live:,} live rows, "
                    f"PSI from noise alone is about {psi_noise(n_bins, psi_reference or n_reference, n_live):.2g}")
        return (f"{text}; {test.label} ({test.measures}) stays below {threshold:g}: PSI weighs a change of share "
                "in a thin bin heavily")
    return text
