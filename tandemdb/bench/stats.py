"""Latencies of a run, merged from the load generator processes, and their percentiles."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


class Latencies:
    """The operations that completed inside the measured window: start and end (``time.monotonic()``), sorted
    by end."""

    def __init__(self, pairs: Iterable[tuple[float, float]], window_start: float, window_end: float) -> None:
        ordered = sorted(pairs, key=lambda p: p[1])
        self.starts = [p[0] for p in ordered]
        self.ends = [p[1] for p in ordered]
        self.window_start = window_start
        self.window_end = window_end

    def __len__(self) -> int:
        return len(self.ends)

    def sorted_ms(self) -> list[float]:
        return sorted((e - s) * 1000 for s, e in zip(self.starts, self.ends, strict=True))

    def percentiles_ms(self) -> dict:
        ms = self.sorted_ms()
        return {"p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99), "p999_ms": percentile(ms, 99.9)}

    def overlapping(self, since: float, until: float) -> Latencies:
        """The operations in flight at some moment between ``since`` and ``until``."""
        pairs = [(s, e) for s, e in zip(self.starts, self.ends, strict=True) if s < until and e > since]
        return Latencies(pairs, self.window_start, self.window_end)


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence (None if empty), rounded to microseconds."""
    if not ordered:
        return None
    rank = max(1, math.ceil(round(q * len(ordered) / 100, 9)))  # round: 99.9% of 1000 is 999, not 999.0000001
    return round(ordered[rank - 1], 3)
