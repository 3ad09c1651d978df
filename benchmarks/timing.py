"""Latency figures shared by the benchmark scripts."""

from __future__ import annotations

import statistics


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``: the nearest-rank element of the sorted list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def median_and(values: list[float], q: float, width: int = 0) -> str:
    """``"median 120 ms, p90 180 ms"`` for seconds in ``values`` (``q`` = 0.9), numbers padded to ``width``."""
    return f"median {statistics.median(values) * 1000:{width}.0f} ms, p{round(q * 100)} {percentile(values, q) * 1000:{width}.0f} ms"
