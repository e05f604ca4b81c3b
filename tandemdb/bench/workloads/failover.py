"""Writes while the leader is SIGKILLed a third of the way into the run. Reported: ``unavailable_s``, the time
from the kill until the first write that was both sent and answered after the kill, and the latencies of the
writes in flight at some moment of that stretch. If no such write succeeds before the window ends,
``recovered`` is false and ``unavailable_s`` runs to the end of the window."""

from __future__ import annotations

from ..stats import Latencies
from .write import Write


class Failover(Write):
    name = "failover"
    summary = "put, leader SIGKILLed at 1/3"
    default_clients = (64,)
    kill_leader_at = 1 / 3

    def summarize(self, latencies: Latencies, killed_at: float | None) -> dict:
        # A write sent before the kill and answered after it proves nothing: its reply may have left the old
        # leader just before it died. A write sent after the kill can only have been served by a new leader.
        # (Measuring instead to the end of the longest gap after the kill counted any later stall of the
        # cluster, once failover took less time than that stall.)
        if killed_at is None:
            raise RuntimeError("the leader was not killed during the measured window")
        after = [end for start, end in zip(latencies.starts, latencies.ends, strict=True) if start > killed_at]
        recovered = min(after, default=latencies.window_end)
        outage = latencies.overlapping(killed_at, recovered)
        return {
            **outage.percentiles_ms(),
            "unavailable_s": round(recovered - killed_at, 3),
            "recovered": bool(after),
        }


WORKLOAD = Failover
