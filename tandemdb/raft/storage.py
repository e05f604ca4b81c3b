"""The storage interface the consensus layer reads its stable log and snapshot from, and an in-memory one.

The application persists what ``Ready`` hands it (hard state, entries, snapshot) into a ``Storage``; the Raft
state machine only ever reads from it. ``tandemdb.storage`` provides the durable implementation; the
simulator and the tests use ``MemoryStorage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .types import ConfState, Entry, HardState, Snapshot, SnapshotMeta


class CompactedError(Exception):
    """The requested index is older than the storage's first index: it was compacted into a snapshot."""


class UnavailableError(Exception):
    """The requested index is newer than the last index in storage."""


class SnapshotOutOfDateError(Exception):
    """A snapshot older than the current one was offered."""


class Storage(Protocol):
    def initial_state(self) -> tuple[HardState, ConfState]: ...

    def entries(self, lo: int, hi: int, max_bytes: int | None = None) -> list[Entry]:
        """Entries in [lo, hi); at least one entry when any is in range, even if larger than ``max_bytes``."""
        ...

    def term(self, index: int) -> int:
        """Term of the entry at ``index``; valid from ``first_index() - 1`` (the snapshot's term) upward."""
        ...

    def first_index(self) -> int: ...

    def last_index(self) -> int: ...

    def snapshot(self) -> Snapshot: ...


def limit_size(entries: list[Entry], max_bytes: int | None) -> list[Entry]:
    """The longest prefix of ``entries`` whose payloads fit in ``max_bytes`` (always at least one entry)."""
    if max_bytes is None or len(entries) <= 1:
        return entries
    size = 0
    for i, e in enumerate(entries):
        size += len(e.data)
        if size > max_bytes and i > 0:
            return entries[:i]
    return entries


class MemoryStorage:
    """Storage held in memory. ``_ents[0]`` is a dummy entry carrying the snapshot's index and term."""

    def __init__(self, conf_state: ConfState | None = None) -> None:
        """A new, empty log; ``conf_state`` bootstraps a node of a new cluster with its initial members."""
        self.hard_state = HardState()
        self._snapshot = Snapshot(SnapshotMeta(conf_state=conf_state or ConfState()))
        self._ents: list[Entry] = [Entry(term=0, index=0)]

    # -- reads (the Storage protocol) -------------------------------------------------------------------
    def initial_state(self) -> tuple[HardState, ConfState]:
        return self.hard_state, self._snapshot.meta.conf_state

    def first_index(self) -> int:
        return self._ents[0].index + 1

    def last_index(self) -> int:
        return self._ents[0].index + len(self._ents) - 1

    def term(self, index: int) -> int:
        offset = self._ents[0].index
        if index < offset:
            raise CompactedError(index)
        if index - offset >= len(self._ents):
            raise UnavailableError(index)
        return self._ents[index - offset].term

    def entries(self, lo: int, hi: int, max_bytes: int | None = None) -> list[Entry]:
        offset = self._ents[0].index
        if lo <= offset:
            raise CompactedError(lo)
        if hi > self.last_index() + 1:
            raise UnavailableError(hi)
        return limit_size(self._ents[lo - offset : hi - offset], max_bytes)

    def snapshot(self) -> Snapshot:
        return self._snapshot

    # -- writes (by the application, from Ready) --------------------------------------------------------
    def set_hard_state(self, hs: HardState) -> None:
        self.hard_state = hs

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Replace the whole log by ``snap`` (a follower installing a snapshot sent by the leader)."""
        if snap.meta.index <= self._snapshot.meta.index:
            raise SnapshotOutOfDateError(snap.meta.index)
        self._snapshot = snap
        self._ents = [Entry(term=snap.meta.term, index=snap.meta.index)]

    def create_snapshot(self, index: int, conf_state: ConfState, data: bytes) -> Snapshot:
        """Record the application's snapshot taken at applied ``index``; call ``compact`` to drop the log."""
        if index <= self._snapshot.meta.index:
            raise SnapshotOutOfDateError(index)
        if index > self.last_index():
            raise UnavailableError(index)
        self._snapshot = Snapshot(SnapshotMeta(index, self.term(index), conf_state), data)
        return self._snapshot

    def compact(self, index: int) -> None:
        """Discard entries up to and including ``index``."""
        offset = self._ents[0].index
        if index <= offset:
            raise CompactedError(index)
        if index > self.last_index():
            raise UnavailableError(index)
        i = index - offset
        self._ents = [Entry(term=self._ents[i].term, index=index)] + self._ents[i + 1 :]

    def append(self, entries: Sequence[Entry]) -> None:
        """Append ``entries``, replacing any conflicting suffix; entries already compacted are ignored."""
        if not entries:
            return
        first = self.first_index()
        if entries[-1].index < first:
            return
        if entries[0].index < first:
            entries = entries[first - entries[0].index :]
        offset = entries[0].index - self._ents[0].index
        if offset < len(self._ents):
            del self._ents[offset:]
        elif offset > len(self._ents):
            raise ValueError(f"missing log entry: last index {self.last_index()}, appending at {entries[0].index}")
        self._ents.extend(entries)
