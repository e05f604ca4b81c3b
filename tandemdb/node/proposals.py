"""A group's client writes: queued during a loop turn, proposed together, answered when their entry applies.

A proposed entry's index and term are remembered with its waiters (one per proposal, None for the driver's own
commands). When that index applies with another term, a new leader overwrote the entry: its writes were not
applied, and their waiters hear so. Writes wait in the queue while the group's previous log write syncs (see
``Group.flush``).
"""

from __future__ import annotations

from collections.abc import Callable

from ..raft.errors import NoLeaderError, NotLeaderError, ProposalDroppedError
from ..raft.rawnode import RawNode
from ..wire.client_api import Error, ErrorKind
from . import commands as gc
from .group_output import GroupOutput
from .stats import GroupStats
from .waiters import Waiter

_LATE = Error(ErrorKind.UNAVAILABLE, "not applied: the log write before it did not finish in time")
_TIMEOUT = Error(ErrorKind.TIMEOUT, "no answer in time; a write may or may not have been applied")
_LOST = Error(ErrorKind.UNAVAILABLE, "leadership changed before the request committed; it was not applied")
_SKIPPED = Error(ErrorKind.TIMEOUT, "the outcome is unknown: this node skipped ahead with a snapshot")


class Proposals:
    def __init__(self, out: GroupOutput, stats: GroupStats, max_batch: int) -> None:
        self._out = out
        self._stats = stats
        self._max_batch = max_batch
        self.queued: list[tuple[gc.Proposal, Waiter | None]] = []
        self.waiting: dict[int, tuple[int, list[Waiter | None]]] = {}  # entry index -> (term, one per proposal)

    def __len__(self) -> int:
        return len(self.queued) + len(self.waiting)

    def pending_writes(self) -> int:
        """Client writes queued or proposed and not answered yet."""
        waiting = sum(sum(w is not None for w in ws) for _, ws in self.waiting.values())
        return waiting + sum(w is not None for _, w in self.queued)

    def queue(self, proposal: gc.Proposal, waiter: Waiter | None) -> None:
        self.queued.append((proposal, waiter))

    def propose(self, rn: RawNode, not_leader: Callable[[], Error]) -> list[tuple[int, int, list[Waiter | None]]]:
        """Propose the queue as few entries as the batch limit allows; returns (index, term, waiters) of each."""
        queued, self.queued = self.queued, []
        proposed = []
        n = self._max_batch
        for i in range(0, len(queued), n):
            batch = queued[i : i + n]
            waiters = [w for _, w in batch]
            try:
                rn.propose(gc.encode([p for p, _ in batch]))
            except ProposalDroppedError as e:
                self._fail(waiters, not_leader() if isinstance(e, NotLeaderError) else _dropped(e))
                continue
            index, term = rn.raft.log.last_index(), rn.raft.term
            self.waiting[index] = (term, waiters)
            proposed.append((index, term, waiters))
        return proposed

    def applied(self, index: int, term: int) -> list[Waiter | None] | None:
        """The waiters of the entry just applied at (index, term); None if it was not proposed here."""
        pending = self.waiting.pop(index, None)
        if pending is None:
            return None
        if pending[0] != term:
            self._fail(pending[1], _LOST)
            return None
        return pending[1]

    def skipped_through(self, index: int) -> None:
        """A snapshot replaced the log through ``index``: the outcome of the writes waiting there is unknown."""
        for i in [i for i in self.waiting if i <= index]:
            self._fail(self.waiting.pop(i)[1], _SKIPPED)

    def fail_queued(self, error: Error) -> None:
        queued, self.queued = self.queued, []
        self._fail([w for _, w in queued], error)

    def expire(self, now: int) -> None:
        if any(w is not None and w.deadline <= now for _, w in self.queued):
            self._fail([w for _, w in self.queued if w is not None and w.deadline <= now], _LATE)
            self.queued = [(p, w) for p, w in self.queued if w is None or w.deadline > now]
        for _, waiters in self.waiting.values():
            for i, w in enumerate(waiters):
                if w is not None and w.deadline <= now:
                    self._fail([w], _TIMEOUT)
                    waiters[i] = None

    def take_all(self) -> list[Waiter]:
        out = [w for _, w in self.queued if w is not None]
        out += [w for _, ws in self.waiting.values() for w in ws if w is not None]
        self.queued, self.waiting = [], {}
        return out

    def _fail(self, waiters: list[Waiter | None], error: Error) -> None:
        for w in waiters:
            if w is not None:
                self._stats.proposals_failed += 1
                self._out.reply(w, error)


def _dropped(e: ProposalDroppedError) -> Error:
    """A proposal refused before it reached any log: always safe to retry."""
    return Error(ErrorKind.NO_LEADER if isinstance(e, NoLeaderError) else ErrorKind.UNAVAILABLE, str(e))
