"""The last few minutes of one node's activity, one point a second, for the web console's charts."""

from __future__ import annotations

import time
from collections import deque

KEEP_S = 300
_MAX_SAMPLES = 5_000  # latencies kept per second for the percentiles; beyond that the second's tail is not kept


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Series:
    def __init__(self, keep: int = KEEP_S) -> None:
        self.points: deque[dict] = deque(maxlen=keep)
        self._latencies: list[float] = []
        self._requests = 0
        self._fsyncs: list[float] = []
        self._last = time.monotonic()

    def request(self, seconds: float) -> None:
        self._requests += 1
        if len(self._latencies) < _MAX_SAMPLES:
            self._latencies.append(seconds)

    def fsync(self, seconds: float) -> None:
        """Called on the group-commit thread: a list append is atomic under the GIL."""
        self._fsyncs.append(seconds)

    def sample(self, **gauges: int) -> dict:
        """Close the current second: rates and percentiles since the last sample, plus ``gauges``."""
        now = time.monotonic()
        elapsed = max(now - self._last, 1e-3)
        latencies, self._latencies = self._latencies, []
        fsyncs, self._fsyncs = self._fsyncs, []
        point = {
            "t": round(time.time(), 3),
            "requests_per_s": round(self._requests / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 3),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
            "fsyncs_per_s": round(len(fsyncs) / elapsed, 1),
            "fsync_p99_ms": round(percentile(fsyncs, 0.99) * 1000, 3),
            **gauges,
        }
        self._requests = 0
        self._last = now
        self.points.append(point)
        return point

    def recent(self, seconds: int) -> list[dict]:
        return list(self.points)[-seconds:]
