"""A group's linearizable reads: queued during a loop turn, they share one ReadIndex round, and are answered
from the applied state once the group has applied up to the read index (Raft thesis §6.4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..raft.rawnode import RawNode
from ..raft.types import ReadState
from ..wire.client_api import Error, ErrorKind
from .group_output import GroupOutput
from .waiters import Waiter

_TIMEOUT = Error(ErrorKind.TIMEOUT, "the read found no quorum in time")

Read = tuple[Waiter, Any]  # (who waits, the read operation)


class Reads:
    def __init__(self, out: GroupOutput) -> None:
        self._out = out
        self.queued: list[Read] = []
        self.by_ctx: dict[bytes, list[Read]] = {}  # a ReadIndex round in flight -> its reads
        self.ready: list[tuple[int, list[Read]]] = []  # (read index, reads), read indexes never decrease
        self._seq = 0

    def __len__(self) -> int:
        return len(self.queued) + sum(map(len, self.by_ctx.values())) + sum(len(r) for _, r in self.ready)

    def queue(self, waiter: Waiter, op: Any) -> None:
        self.queued.append((waiter, op))

    def start(self, rn: RawNode, refusal: Error | None) -> None:
        """Start one ReadIndex round for every read queued this turn (or refuse them all)."""
        if not self.queued:
            return
        reads, self.queued = self.queued, []
        if refusal is not None:
            for waiter, _ in reads:
                self._out.reply(waiter, refusal)
            return
        self._seq += 1
        ctx = self._seq.to_bytes(8, "big")
        self.by_ctx[ctx] = reads
        rn.read_index(ctx)

    def confirmed(self, read_states: list[ReadState]) -> None:
        for rs in read_states:
            reads = self.by_ctx.pop(rs.context, None)
            if reads:
                self.ready.append((rs.index, reads))

    def serve(self, applied: int, answer: Callable[[Any], Any]) -> None:
        while self.ready and self.ready[0][0] <= applied:
            _, reads = self.ready.pop(0)
            for waiter, op in reads:
                self._out.reply(waiter, answer(op))

    def expire(self, now: int) -> None:
        for ctx, reads in list(self.by_ctx.items()):
            for w, _ in reads:
                if w.deadline <= now:
                    self._out.reply(w, _TIMEOUT)
            kept = [(w, op) for w, op in reads if w.deadline > now]
            if kept:
                self.by_ctx[ctx] = kept
            else:
                del self.by_ctx[ctx]

    def take_all(self) -> list[Waiter]:
        out = [w for w, _ in self.queued]
        out += [w for reads in self.by_ctx.values() for w, _ in reads]
        out += [w for _, reads in self.ready for w, _ in reads]
        self.queued, self.by_ctx, self.ready = [], {}, []
        return out
