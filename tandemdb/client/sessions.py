"""Idempotency sessions: each write carries a ``(client_id, seq)`` that its retries reuse.

The state machine remembers only the last seq of each client id, so one id must never have two writes in
flight. A write takes a session from the pool for its whole life (all its retries) and gives it back only once
its outcome is known; a session whose write may still be in flight is dropped, never reused.
"""

from __future__ import annotations

import secrets


def random_id() -> int:
    """A random positive 63-bit id."""
    while True:
        value = secrets.randbits(63)
        if value:
            return value


class Session:
    __slots__ = ("client_id", "seq")

    def __init__(self, client_id: int) -> None:
        self.client_id = client_id
        self.seq = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


class SessionPool:
    def __init__(self) -> None:
        self._free: list[Session] = []

    def acquire(self) -> Session:
        return self._free.pop() if self._free else Session(random_id())

    def release(self, session: Session) -> None:
        self._free.append(session)
