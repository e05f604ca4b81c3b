"""Lease expiry, decided by a group's leader alone and counted in its own ticks.

Followers never expire a lease: the leader proposes a ``LeaseRevoke`` when a lease runs out, and the revoke,
like any command, applies everywhere. A new leader gives every lease a full TTL again (etcd does the same),
so a lease is never revoked early because leadership moved; it may live up to one TTL longer.
"""

from __future__ import annotations

import math


class LeaseTimer:
    def __init__(self, ticks_per_s: float) -> None:
        self._ticks_per_s = ticks_per_s
        self._deadline: dict[int, int] = {}  # lease id -> tick at which it expires
        self._revoking: dict[int, int] = {}  # lease id -> tick at which to propose its revoke again

    def __bool__(self) -> bool:
        return bool(self._deadline)

    def clear(self) -> None:
        self._deadline.clear()
        self._revoking.clear()

    def start(self, lease_id: int, ttl_s: int, now: int) -> None:
        self._deadline[lease_id] = now + max(1, round(ttl_s * self._ticks_per_s))
        self._revoking.pop(lease_id, None)

    def forget(self, lease_id: int) -> None:
        self._deadline.pop(lease_id, None)
        self._revoking.pop(lease_id, None)

    def remaining_s(self, lease_id: int, now: int) -> int | None:
        deadline = self._deadline.get(lease_id)
        if deadline is None:
            return None
        return max(0, math.ceil((deadline - now) / self._ticks_per_s))

    def expired(self, now: int, retry_ticks: int) -> list[int]:
        """Leases whose revoke should be proposed now (again after ``retry_ticks`` if it did not apply)."""
        due = [i for i, d in self._deadline.items() if d <= now and self._revoking.get(i, 0) <= now]
        for lease_id in due:
            self._revoking[lease_id] = now + retry_ticks
        return due
