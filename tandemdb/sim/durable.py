"""What a node's disk durably holds for the simulated group, as the invariant checks see it.

The node's ``GroupStorage`` runs ahead of the disk (it takes a Ready's writes before they are synced), so the
checks keep their own account: ``DurableLog`` starts from what recovery finds on the disk and then follows
the log records of each batch the simulator syncs, decoded from the batch's bytes (``storage.record``).
It keeps terms only, which is all the checks need; the records themselves are checked on the way in
(``Invariants.on_persist``).

This is a model for checking, kept deliberately simpler than the storage layer: records of one batch reach
it only once that batch is synced, which is exactly what a crash at that moment would keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..raft.types import Entry, HardState
from ..storage.group_storage import GroupStorage
from ..storage.record import (
    HEADER,
    CompactionMarker,
    RecordKind,
    SnapshotMarker,
    WriteBatch,
    decode_compaction_marker,
    decode_entries,
    decode_hard_state,
    decode_snapshot_marker,
)
from .invariants import Violation

# A decoded log record: hard state, entries, snapshot marker or compaction marker.
Record = HardState | list[Entry] | SnapshotMarker | CompactionMarker


_DECODERS: dict[int, Callable[[memoryview], Record]] = {
    RecordKind.HARD_STATE: decode_hard_state,
    RecordKind.ENTRIES: decode_entries,
    RecordKind.SNAPSHOT: decode_snapshot_marker,
    RecordKind.COMPACTION: decode_compaction_marker,
}


def records(batch: WriteBatch, group: int) -> Iterator[tuple[int, Record]]:
    """(kind, decoded payload) of each record of ``group`` in ``batch``, in order."""
    buf = memoryview(batch.buf)
    off = 0
    for _ in range(batch.count):
        _, _, length, kind, g = HEADER.unpack_from(buf, off)
        start = off + HEADER.size
        if g == group:
            record: Record = _DECODERS[kind](buf[start : start + length])
            yield kind, record
        off = start + length + 1
    assert off == len(buf), "a write batch holds more bytes than its records"


class DurableLog:
    def __init__(self) -> None:
        self.hard_state = HardState()
        self.snapshot_index = 0
        self.base = (0, 0)  # (index, term) of the entry just before the first one held (a snapshot or compaction)
        self.terms: list[int] = []  # terms of the entries held, from base index + 1 on

    @classmethod
    def recovered(cls, gs: GroupStorage) -> DurableLog:
        """What recovery found: ``gs`` was just opened from the disk."""
        log = cls()
        log.hard_state = gs.hard_state
        log.snapshot_index = gs.snapshot().meta.index
        first, last = gs.first_index(), gs.last_index()
        log.base = (first - 1, gs.term(first - 1))
        log.terms = [gs.term(i) for i in range(first, last + 1)]
        return log

    # -- reads ----------------------------------------------------------------------------------------------
    def last_index(self) -> int:
        return self.base[0] + len(self.terms)

    def last(self) -> tuple[int, int]:
        """(term, index) of the last entry: how up to date the log is, as an election compares logs."""
        return (self.terms[-1] if self.terms else self.base[1]), self.last_index()

    def term(self, index: int) -> int | None:
        """The term at ``index``; None if it is compacted (below the base) or beyond the log."""
        base = self.base[0]
        if index == base:
            return self.base[1]
        if base < index <= self.last_index():
            return self.terms[index - base - 1]
        return None

    def holds(self, index: int, term: int) -> bool:
        """Whether the entry (index, term) is durable here, in the log or inside a snapshot."""
        return self.snapshot_index >= index or self.term(index) == term

    # -- the records of a synced batch ------------------------------------------------------------------------
    def apply(self, kind: int, record: Record) -> None:
        """Take one record of a synced batch (decoded by ``records``)."""
        if isinstance(record, HardState):
            self.hard_state = record
        elif isinstance(record, list):
            self._append(record)
        elif isinstance(record, SnapshotMarker):
            self.snapshot_index = max(self.snapshot_index, record.index)
            if record.replaces_log:
                self.base, self.terms = (record.index, record.term), []
        else:
            base = self.base[0]
            if record.index > self.last_index():
                self.base, self.terms = (record.index, record.term), []
            elif record.index >= base:
                self.terms = self.terms[record.index - base :]
                self.base = (record.index, record.term)

    def _append(self, entries: list[Entry]) -> None:
        base = self.base[0]
        first = entries[0].index
        if first > self.last_index() + 1:
            raise Violation(f"durable log: entries from index {first} synced after last index {self.last_index()}")
        terms = [e.term for e in entries if e.index > base]
        start = max(first, base + 1)
        del self.terms[start - base - 1 :]
        self.terms.extend(terms)
