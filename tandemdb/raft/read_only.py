"""ReadIndex bookkeeping (Raft thesis 6.4): a read waits until the leader has confirmed, with a quorum
round of heartbeats, that it was still the leader when the read arrived."""

from __future__ import annotations

from dataclasses import dataclass, field

from .types import Message


@dataclass
class ReadIndexStatus:
    request: Message
    index: int  # the commit index when the read arrived
    acks: dict[int, bool] = field(default_factory=dict)


class ReadOnly:
    def __init__(self) -> None:
        self.pending: dict[bytes, ReadIndexStatus] = {}
        self.queue: list[bytes] = []

    def add_request(self, index: int, m: Message) -> None:
        ctx = m.context
        if ctx in self.pending:
            return
        self.pending[ctx] = ReadIndexStatus(m, index)
        self.queue.append(ctx)

    def recv_ack(self, node: int, ctx: bytes) -> dict[int, bool] | None:
        rs = self.pending.get(ctx)
        if rs is None:
            return None
        rs.acks[node] = True
        return rs.acks

    def advance(self, ctx: bytes) -> list[ReadIndexStatus]:
        """Release every request queued up to and including ``ctx``: a quorum ack for a later heartbeat
        round confirms the earlier ones too."""
        if ctx not in self.pending:
            return []
        n = self.queue.index(ctx) + 1
        done = [self.pending.pop(c) for c in self.queue[:n]]
        del self.queue[:n]
        return done

    def last_pending_ctx(self) -> bytes:
        return self.queue[-1] if self.queue else b""
