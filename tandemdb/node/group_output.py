"""What a group emits while it handles events: the node collects it at the end of each turn (``Node.drain``).

A group never calls up into the node (h11's rule): it appends here, and the node takes the lot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..raft.types import Entry, Message
from .events import NodeEvent
from .tracing import TracePoint
from .waiters import Waiter


@dataclass(slots=True)
class GroupOutput:
    messages: list[Message] = field(default_factory=list)  # Raft messages, in the order they may leave
    quiesce: list[Message] = field(default_factory=list)  # heartbeats that put the followers to sleep
    replies: list[tuple[Waiter, Any]] = field(default_factory=list)  # (who waits, the answer)
    changes: list[Any] = field(default_factory=list)  # the state machine's changes (KV: events), in apply order
    resync: bool = False  # a snapshot replaced the state: watchers must catch up from it
    members_changed: bool = False  # the member table changed (peer addresses may be new)
    log: list[NodeEvent] = field(default_factory=list)
    traces: list[TracePoint] = field(default_factory=list)
    applied: list[Entry] = field(default_factory=list)  # with ``record_applied`` (the simulator's checks)

    def reply(self, waiter: Waiter | None, reply: Any) -> None:
        if waiter is not None:
            self.replies.append((waiter, reply))

    def take(self) -> GroupOutput:
        """Everything emitted since the last take; this output starts empty again."""
        out = GroupOutput(
            self.messages, self.quiesce, self.replies, self.changes, self.resync, self.members_changed, self.log,
            self.traces, self.applied,
        )
        self.messages, self.quiesce, self.replies, self.changes = [], [], [], []
        self.log, self.traces, self.applied = [], [], []
        self.resync = self.members_changed = False
        return out
