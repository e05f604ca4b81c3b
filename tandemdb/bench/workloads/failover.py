"""Writes while the leader is SIGKILLed a third of the way into the run. Reported: ``unavailable_s``, the time
from the kill until writes succeed again (the end of the longest stretch after the kill in which no write
completed), and the latencies of the writes in flight at some moment of that stretch. If writes do not succeed
again before the window ends, ``recovered`` is false and ``unavailable_s`` runs to the end of the window."""

from __future__ import annotations

from ..stats import Latencies
from .write import Write


class Failover(Write):
    name = "failover"
    summary = "put, leader SIGKILLed at 1/3"
    default_clients = (64,)
    kill_leader_at = 1 / 3

    def summarize(self, latencies: Latencies, killed_at: float | None) -> dict:
        # Replies already on their way when the leader died may land just after the kill: the outage is the
        # longest gap, not the first one. A longest gap that runs to the end of the window: no recovery seen.
        points = [killed_at] + [end for end in latencies.ends if end > killed_at] + [latencies.window_end]
        last_before, recovered = max(zip(points, points[1:]), key=lambda gap: gap[1] - gap[0])
        outage = latencies.overlapping(last_before, recovered)
        return {
            **outage.percentiles_ms(),
            "unavailable_s": round(recovered - killed_at, 3),
            "recovered": recovered < latencies.window_end,
        }


WORKLOAD = Failover
