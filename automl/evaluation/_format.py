"""How a held-out figure is written, once, so Results, Compare, the report and the model card print the same text.

Four significant digits read well for every metric here: scores in 0..1 keep
four decimals (0.8102), errors in the units of the target keep four digits
(543.2) and large ones get thousands separators instead of decimals (12,346).
"""

from __future__ import annotations

import math

MISSING = "n/a"


def format_metric(value: float | None) -> str:
    """``value`` as every view shows it; "n/a" when the metric is not defined."""
    if value is None or not math.isfinite(float(value)):
        return MISSING
    value = float(value)
    size = abs(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:.{4 - len(str(int(size)))}f}"
    if size >= 0.001 or size == 0:
        return f"{value:.4f}"
    return f"{value:.3g}"  # a tiny error (MAPE of a near-perfect model): its digits, not 0.0000


def format_interval(interval: tuple[float, float] | list[float] | None) -> str:
    """A bootstrap interval as "low – high" in the metric's format; "" when there is none."""
    if not interval:
        return ""
    low, high = interval
    return f"{format_metric(low)} – {format_metric(high)}"
