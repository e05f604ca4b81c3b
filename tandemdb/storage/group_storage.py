"""One Raft group's durable storage: the ``Storage`` protocol served from memory, writes recorded in the node's log.

``GroupStorage`` is a ``MemoryStorage`` (``tandemdb.raft.storage``): the reads Raft makes (``initial_state``,
``entries``, ``term``, ``first_index``, ``last_index``, ``snapshot``) are served from the in-memory index, which
``NodeStorage.open`` rebuilds by replaying the log. Each write (``save`` and the methods it calls) updates the
index and adds a record to the node's pending ``WriteBatch``; it is durable once the node syncs
(``NodeStorage.sync``) or the ``GroupCommitter`` reports that batch done. A snapshot file travels in the
same batch as the marker that points at it, and is written and synced before the batch's records, by whoever
writes the batch (the commit thread, in the server), never on the event loop.

The group also remembers the LSNs of the records a replay would need (its latest hard state, snapshot marker,
the record that set its first index, and the entries records still in use), so that ``NodeStorage`` knows
which log segments it may delete.
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..raft.storage import MemoryStorage, SnapshotOutOfDateError, UnavailableError
from ..raft.types import ConfState, Entry, HardState, Snapshot, SnapshotMeta
from .errors import CorruptionError
from .record import (
    CompactionMarker,
    RecordKind,
    SnapshotMarker,
    decode_compaction_marker,
    decode_entries,
    decode_hard_state,
    decode_snapshot_marker,
    encode,
)
from .snapshot_file import read_snapshot_file, snapshot_file_name

if TYPE_CHECKING:
    from .node_storage import NodeStorage


class GroupStorage(MemoryStorage):
    def __init__(self, node: NodeStorage, group: int) -> None:
        super().__init__()
        self.group = group
        self._node = node
        self._snapshot_path: str | None = None
        # LSNs of the records a replay needs; every older record of this group is dead.
        self._hard_state_lsn: int | None = None
        self._snapshot_lsn: int | None = None
        self._base_lsn: int | None = None  # the record that set the log's first index (compaction or snapshot)
        self._runs: deque[tuple[int, int]] = deque()  # (first index, lsn) of each entries record still in use
        # Replay only (see _replay_entries): whether the log's base is a guess, and where entries were last
        # found missing. Entries known to exist but not seen yet are None in _ents.
        self._base_guessed = False
        self._missing_at: tuple[str, int] | None = None

    # -- writes -------------------------------------------------------------------------------------------
    def save(
        self, hard_state: HardState | None = None, entries: Sequence[Entry] = (), snapshot: Snapshot | None = None
    ) -> None:
        """Persist what a Ready hands over, in the order recovery needs: snapshot, entries, hard state."""
        if snapshot is not None and not snapshot.is_empty():
            self.apply_snapshot(snapshot)
        if entries:
            self.append(entries)
        if hard_state is not None and hard_state != self.hard_state:
            self.set_hard_state(hard_state)

    def set_hard_state(self, hs: HardState) -> None:
        self._hard_state_lsn = self._node._log(RecordKind.HARD_STATE, self.group, encode(hs))
        self.hard_state = hs

    def append(self, entries: Sequence[Entry]) -> None:
        """Append ``entries``; appending at index i drops the entries from i on (a conflicting suffix)."""
        # The hot path: one encode and one record for the whole list.
        if not entries:
            return
        first, start = self._ents[0].index + 1, entries[0].index
        if start < first:
            if entries[-1].index < first:
                return
            entries, start = entries[first - start :], first
        super().append(entries)
        self._add_run(start, self._node._log(RecordKind.ENTRIES, self.group, encode(entries)))

    def compact(self, index: int) -> None:
        super().compact(index)
        marker = CompactionMarker(index, self._ents[0].term)
        self._base_lsn = self._node._log(RecordKind.COMPACTION, self.group, encode(marker))
        self._drop_runs_through(index)
        self._node._note_dead_records()

    def apply_snapshot(self, snap: Snapshot) -> None:
        """Install a snapshot received from the leader: the log restarts after it."""
        if snap.meta.index <= self._snapshot.meta.index:
            raise SnapshotOutOfDateError(snap.meta.index)
        path = self._node._write_snapshot(self.group, snap)
        super().apply_snapshot(snap)
        marker = SnapshotMarker(snap.meta.index, snap.meta.term, replaces_log=True)
        self._snapshot_lsn = self._base_lsn = self._node._log(RecordKind.SNAPSHOT, self.group, encode(marker))
        self._runs.clear()
        self._replace_snapshot_file(path)
        self._node._note_dead_records()

    def create_snapshot(self, index: int, conf_state: ConfState, data: bytes) -> Snapshot:
        """Record the application's snapshot at applied ``index``; the log is kept (``compact`` drops it)."""
        if index <= self._snapshot.meta.index:
            raise SnapshotOutOfDateError(index)
        if index > self.last_index():
            raise UnavailableError(index)
        snap = Snapshot(SnapshotMeta(index, self.term(index), conf_state), data)
        path = self._node._write_snapshot(self.group, snap)
        self._snapshot = snap
        marker = SnapshotMarker(index, snap.meta.term, replaces_log=False)
        self._snapshot_lsn = self._node._log(RecordKind.SNAPSHOT, self.group, encode(marker))
        self._replace_snapshot_file(path)
        self._node._note_dead_records()
        return snap

    # -- what the log must keep ----------------------------------------------------------------------------
    def _entries_floor(self) -> int | None:
        """LSN of the oldest entries record still in use, if any."""
        return self._runs[0][1] if self._runs else None

    def _rewrite_records_before(self, lsn: int) -> None:
        """Write the group's hard state, snapshot marker and log base again if their records sit below ``lsn``,
        so that the segments holding them can be deleted. The copies describe the current state."""
        node, group = self._node, self.group
        if self._snapshot_lsn is not None and self._snapshot_lsn < lsn:
            meta = self._snapshot.meta
            marker = SnapshotMarker(meta.index, meta.term, replaces_log=False)
            self._snapshot_lsn = node._log(RecordKind.SNAPSHOT, group, encode(marker))
        if self._base_lsn is not None and self._base_lsn < lsn:
            base = self._ents[0]
            self._base_lsn = node._log(RecordKind.COMPACTION, group, encode(CompactionMarker(base.index, base.term)))
        if self._hard_state_lsn is not None and self._hard_state_lsn < lsn:
            self._hard_state_lsn = node._log(RecordKind.HARD_STATE, group, encode(self.hard_state))

    def _add_run(self, first: int, lsn: int) -> None:
        runs = self._runs
        while runs and runs[-1][0] >= first:
            runs.pop()
        runs.append((first, lsn))

    def _drop_runs_through(self, index: int) -> None:
        runs = self._runs
        while len(runs) > 1 and runs[1][0] <= index + 1:
            runs.popleft()
        if self.last_index() == index:
            runs.clear()

    def _replace_snapshot_file(self, path: str) -> None:
        if self._snapshot_path is not None:
            self._node._obsolete(self._snapshot_path)
        self._snapshot_path = path

    # -- replay -------------------------------------------------------------------------------------------
    def _replay(self, lsn: int, kind: int, payload: memoryview, path: str, offset: int) -> None:
        if kind == RecordKind.ENTRIES:
            self._replay_entries(lsn, decode_entries(payload), path, offset)
        elif kind == RecordKind.HARD_STATE:
            self.hard_state = decode_hard_state(payload)
            self._hard_state_lsn = lsn
        elif kind == RecordKind.SNAPSHOT:
            self._replay_snapshot(lsn, decode_snapshot_marker(payload))
        else:
            self._replay_compaction(lsn, decode_compaction_marker(payload))

    def _replay_entries(self, lsn: int, entries: list[Entry], path: str, offset: int) -> None:
        # Records older than this one may have been in segments deleted once a compaction or snapshot made them
        # dead, so the log can seem to start past its base, or to have holes. A hole is marked with None
        # entries; with nothing known below the record, its base is guessed. Later records and markers must
        # fill every hole and fix the base, which _finish_replay checks.
        if not entries:
            raise ValueError("empty entries record")
        first, base, last = entries[0].index, self._ents[0].index, self.last_index()
        if first > last + 1 and last == base and not self._base_guessed and base == 0:
            self._ents, self._base_guessed = [Entry(term=0, index=first - 1)], True
        elif first <= base and self._base_guessed:  # everything from `first` on is overwritten anyway
            self._ents, self._base_guessed = [Entry(term=0, index=first - 1)], first > 1
        elif first > last + 1:
            unseen: list = [None] * (first - last - 1)
            self._ents.extend(unseen)
        else:
            first = max(first, base + 1)
        if first > last + 1 or self._base_guessed:
            self._missing_at = (path, offset)
        if entries[-1].index >= first:
            MemoryStorage.append(self, entries)
            self._add_run(first, lsn)

    def _replay_snapshot(self, lsn: int, marker: SnapshotMarker) -> None:
        # The conf state and data are in the snapshot file, loaded once the replay is done.
        self._snapshot = Snapshot(SnapshotMeta(marker.index, marker.term))
        self._snapshot_lsn = lsn
        if marker.replaces_log:
            self._ents, self._base_guessed = [Entry(term=marker.term, index=marker.index)], False
            self._runs.clear()
            self._base_lsn = lsn

    def _replay_compaction(self, lsn: int, marker: CompactionMarker) -> None:
        index, base = marker.index, self._ents[0].index
        self._base_lsn = lsn
        if index > self.last_index():
            self._ents = [Entry(term=marker.term, index=index)]
            self._runs.clear()
        elif index >= base:
            self._ents = [Entry(term=marker.term, index=index), *self._ents[index - base + 1 :]]
            self._drop_runs_through(index)
        else:  # below a guessed base: the entries in between exist, in records not seen yet
            unseen: list = [None] * (base - index)
            self._ents = [Entry(term=marker.term, index=index), *unseen, *self._ents[1:]]
        self._base_guessed = False

    def _finish_replay(self, snapshot_dir: str) -> None:
        if self._base_guessed or None in self._ents:
            assert self._missing_at is not None
            path, offset = self._missing_at
            raise CorruptionError(
                path,
                offset,
                self.group,
                "some of the group's log entries are in no record left and no later snapshot or compaction covers "
                "them (a log segment was lost)",
            )
        meta = self._snapshot.meta
        if meta.index:
            self._snapshot_path = posixpath.join(snapshot_dir, snapshot_file_name(self.group, meta.index, meta.term))
            self._snapshot = read_snapshot_file(self._node.disk, self._snapshot_path, self.group, meta.index, meta.term)
