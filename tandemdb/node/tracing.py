"""Trace points of traced client writes, so that one request's trace can follow its entry through the cluster.

A request that carries a W3C traceparent (the shell sets one only when tracing is on) marks the log entry it is
proposed in. Each replica then notes when that entry reaches a step, as a ``TracePoint`` in ``Output.traces``:

- on the leader: ``proposed``, ``persist`` (handed to the disk), ``durable`` (synced), ``sent`` and ``acked`` per
  follower, ``committed``, ``applied``;
- on a follower: ``received`` (an append from the leader carried it, see ``GroupMessage.traces``), ``persist``,
  ``durable``, ``committed``, ``applied``.

The core reads no clock: the shell stamps each point with the time it sees it and turns pairs of points into
spans. Nothing here runs while no traced entry is pending.

A follower forgets a traced entry once applied. The leader keeps it until every follower holds it too, so that
a slow follower's ack still ends its ``replicate`` span; at most ``MAX_TRACED`` entries are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..raft.rawnode import Ready
from ..raft.types import Entry, Message, MessageType
from ..wire.peer import GroupMessage

MAX_TRACED = 1024


@dataclass(frozen=True, slots=True)
class TracePoint:
    traceparent: str
    step: str
    group: int
    index: int
    peer: int = 0  # sent/acked: the follower; received: the leader


class EntryTraces:
    """One replica's traced entries: index -> (term, traceparents), until it is done with them (see above)."""

    __slots__ = ("applied_to", "emit", "entries", "group")

    def __init__(self, group: int, emit: Callable[[TracePoint], None]) -> None:
        self.group = group
        self.emit = emit
        self.entries: dict[int, tuple[int, list[str]]] = {}
        self.applied_to = 0

    def __bool__(self) -> bool:
        return bool(self.entries)

    def _note(self, step: str, index: int, peer: int = 0) -> None:
        for tp in self.entries[index][1]:
            self.emit(TracePoint(tp, step, self.group, index, peer))

    def _each_in(self, entries: list[Entry]) -> list[int]:
        """The traced indexes among ``entries`` (contiguous), with the same term."""
        if not entries:
            return []
        first, last = entries[0].index, entries[-1].index
        return [i for i, (term, _) in self.entries.items() if first <= i <= last and entries[i - first].term == term]

    # -- leader ---------------------------------------------------------------------------------------------------
    def proposed(self, index: int, term: int, traceparents: list[str]) -> None:
        if traceparents:
            if len(self.entries) >= MAX_TRACED:
                self.forget_through(min(self.entries))
            self.entries[index] = (term, traceparents)
            self._note("proposed", index)

    def attach(self, m: Message) -> list[tuple[int, str]] | None:
        """The traced entries an append carries, for ``GroupMessage.traces``; notes them as sent."""
        if m.type != MessageType.APP:
            return None
        out: list[tuple[int, str]] = []
        for i in self._each_in(m.entries):
            self._note("sent", i, m.to)
            out.extend((i, tp) for tp in self.entries[i][1])
        return out or None

    def acked(self, m: Message, match_before: int, matches: Iterable[int]) -> None:
        """A follower's append response: the traced entries it newly holds. ``matches``: what each member holds."""
        if m.type == MessageType.APP_RESP and not m.reject:
            for i in [i for i in self.entries if match_before < i <= m.index]:
                self._note("acked", i, m.frm)
            self.forget_through(min(self.applied_to, *matches))

    # -- follower -----------------------------------------------------------------------------------------------
    def received(self, gm: GroupMessage) -> None:
        m = gm.msg
        if not m.entries or not gm.traces:
            return
        first = m.entries[0].index
        for index, tp in gm.traces:
            pos = index - first
            if not 0 <= pos < len(m.entries):
                continue
            term = m.entries[pos].term
            have = self.entries.get(index)
            if have is None or have[0] != term:
                self.entries[index] = (term, [tp])
            elif tp not in have[1]:
                have[1].append(tp)
            self.emit(TracePoint(tp, "received", self.group, index, m.frm))

    # -- both -------------------------------------------------------------------------------------------------------
    def ready(self, rd: Ready) -> None:
        """A Ready was taken: its entries go to the disk, its committed entries to be applied."""
        for i in self._each_in(rd.entries):
            self._note("persist", i)
        for i in self._each_in(rd.committed_entries):
            self._note("committed", i)

    def durable(self, rd: Ready) -> None:
        for i in self._each_in(rd.entries):
            self._note("durable", i)

    def applied(self, entries: list[Entry], leader: bool) -> None:
        """Entries were applied: note the traced ones; a follower is then done with them."""
        if not entries:
            return
        for i in self._each_in(entries):
            self._note("applied", i)
        self.applied_to = entries[-1].index
        if not leader:
            self.forget_through(self.applied_to)

    def forget_through(self, index: int) -> None:
        for i in [i for i in self.entries if i <= index]:
            del self.entries[i]
