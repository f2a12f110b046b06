"""The bins a distribution plot draws: on the union of the training and the live ranges.

The drift tests count live rows in the training profile's bins; a plot on
those bins hides a shift beyond the training range (every live value above
the last training edge lands in one wide end bin, flat once drawn as a
density). The plot therefore gets its own bins, covering both ranges, with
the reference counted in them from its stored raw sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from automl.monitor._profile import quantile_edges

PLOT_BINS = 15  # equal-frequency bins per side, pooled
MIN_WIDTH = 1 / 200  # of the joint span: narrower bins are merged, so a few rows make no density spike


def plot_edges(ref_edges: np.ndarray, live: np.ndarray, bins: int = PLOT_BINS) -> np.ndarray:
    """Edges from the lower of the two minima to the higher of the two maxima.

    Each side contributes its own equal-frequency edges (the training side
    from its profile, so its exact minimum and maximum), which gives
    resolution wherever either side has mass: a live sample shifted above the
    training maximum gets bins of its own up there.
    """
    ref_edges = np.asarray(ref_edges, dtype=float)
    live = np.asarray(live, dtype=float)
    live = live[np.isfinite(live)]
    sides = [ref_edges]
    if len(live):
        sides.append(quantile_edges(live, bins))
    pooled = np.unique(np.concatenate(sides))
    low, high = pooled[0], pooled[-1]
    gap = (high - low) * MIN_WIDTH
    kept = [low]
    for edge in pooled[1:-1]:
        if edge - kept[-1] >= gap and high - edge >= gap:
            kept.append(edge)
    return np.array([*kept, high])


def reference_counts(edges: np.ndarray, sample: np.ndarray | None, profile: dict[str, Any]) -> tuple[np.ndarray, str]:
    """The training rows per plot bin: from the raw sample when stored, else spread evenly within the profile's
    bins (its cumulative counts interpolated), which is exact at the profile's own edges."""
    if sample is not None and np.isfinite(sample).any():
        finite = sample[np.isfinite(sample)]
        return np.bincount(_codes(finite, edges), minlength=len(edges) - 1).astype(float), "sample"
    own = np.asarray(profile["edges"], dtype=float)
    cumulative = np.r_[0.0, np.cumsum(profile["counts"], dtype=float)]
    return np.diff(np.interp(edges, own, cumulative)), "profile"


def union_distribution(profile: dict[str, Any], sample: np.ndarray | None, live: np.ndarray) -> dict[str, Any]:
    """Reference and live shares on bins covering both ranges (see :func:`plot_edges`)."""
    edges = plot_edges(np.asarray(profile["edges"], dtype=float), live)
    ref, source = reference_counts(edges, sample, profile)
    finite = live[np.isfinite(live)]
    counts = np.bincount(_codes(finite, edges), minlength=len(edges) - 1).astype(float)
    labels = [f"{'[' if i == 0 else '('}{a:.4g}, {b:.4g}]" for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))]
    return {"labels": labels, "edges": edges.tolist(), "reference": _shares(ref), "live": _shares(counts),
            "reference_from": source, "training_range": [float(profile["edges"][0]), float(profile["edges"][-1])]}


def _codes(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bins closed on the right, (a, b] (the first [a, b]): the training maximum is an edge, so it closes
    the last bin with training rows, and every bin past it holds live values only."""
    return np.clip(np.searchsorted(edges, values, side="left") - 1, 0, len(edges) - 2)


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total if total else counts).tolist()
