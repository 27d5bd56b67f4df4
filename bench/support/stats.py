"""Percentiles and summaries for benchmark figures."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[rank]


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """Median, min and max of repeated rounds."""
    return statistics.median(values), min(values), max(values)


def fmt_spread(values: Sequence[float], digits: int = 0, unit: str = "") -> str:
    median, low, high = spread(values)
    return f"{median:,.{digits}f}{unit} ({low:,.{digits}f}–{high:,.{digits}f}{unit})"
