"""A node's storage: its data directory, the write-ahead log shared by its groups, and each group's storage.

Layout of a data directory::

    <data dir>/wal/<seq>.wal            log segments (tandemdb.storage.segment)
    <data dir>/snap/<group>-<term>-<index>.snap   snapshot files (tandemdb.storage.snapshot_file)

``NodeStorage.open`` replays the log into one ``GroupStorage`` per group, loads and verifies each group's
snapshot file, and removes what a crash left behind (temporary files, snapshot files no marker points at).

Writes from all groups go into one pending ``WriteBatch``. Two ways to make it durable:

- simulator / tests: ``sync()`` writes it and fdatasyncs, on the calling thread;
- server: once per loop turn, ``committer.submit(storage.take_batch(), on_done)`` hands it to the
  ``GroupCommitter`` thread.

After a failed write (``DiskFullError``, ``LogFailedError``) the in-memory index is ahead of the disk: reopen the
storage (replay) before writing again; the log refuses further batches until then.

Deleting segments: when a segment's records are all dead (a later hard state, snapshot marker or compaction
replaces them, and the group's remaining entries sit in later records), it is deleted once the batch that
proves it is durable. Groups that went quiet pin old segments with their last hard state or markers; the
storage writes those few records again at the end of the log so the old segments can go.
"""

from __future__ import annotations

import posixpath

from ..raft.types import Snapshot
from .disk import Disk
from .group_storage import GroupStorage
from .record import RecordKind, WriteBatch
from .snapshot_file import SUFFIX, snapshot_file_name
from .wal import DEFAULT_SEGMENT_SIZE, WAL


class NodeStorage:
    def __init__(self, disk: Disk, path: str) -> None:
        """Use ``NodeStorage.open``."""
        self.disk = disk
        self.path = path
        self._snapshot_dir = posixpath.join(path, "snap")
        self._groups: dict[int, GroupStorage] = {}
        self._wal: WAL | None = None
        self._batch = WriteBatch(0)
        self._collect_due = False
        self._segments_seen = 0

    @classmethod
    def open(
        cls, disk: Disk, path: str, *, cluster_id: int, node_id: int, segment_size: int = DEFAULT_SEGMENT_SIZE
    ) -> NodeStorage:
        """Open the data directory at ``path`` (created if missing) and replay it. Raises ``CorruptionError``
        (with ``SnapshotCorruptError``) for damaged data, ``WrongDataDirError`` and ``UnsupportedVersionError``
        for a directory this node must not use."""
        self = cls(disk, path)
        wal_dir = posixpath.join(path, "wal")
        disk.make_dirs(wal_dir)
        disk.make_dirs(self._snapshot_dir)
        disk.sync_dir(path)
        self._wal = WAL.open(
            disk, wal_dir, cluster_id=cluster_id, node_id=node_id, segment_size=segment_size, on_record=self._replay
        )
        for group in self._groups.values():
            group._finish_replay(self._snapshot_dir)
        self._remove_unreferenced_snapshots()
        self._batch = WriteBatch(self._wal.next_lsn)
        return self

    @property
    def wal(self) -> WAL:
        assert self._wal is not None
        return self._wal

    def group(self, group_id: int) -> GroupStorage:
        """The storage of ``group_id``, empty if the node has never written for it."""
        group = self._groups.get(group_id)
        if group is None:
            group = self._groups[group_id] = GroupStorage(self, group_id)
        return group

    def remove_group(self, group_id: int) -> None:
        """Forget ``group_id`` and everything it wrote: a tombstone record (durable with the next sync) makes a
        replay drop the group's earlier records, and its snapshot file goes once the tombstone is durable."""
        group = self._groups.pop(group_id)
        self._log(RecordKind.GROUP_REMOVED, group_id, b"")
        if group._snapshot_path is not None:
            self._obsolete(group._snapshot_path)
        self._note_dead_records()

    def group_ids(self) -> list[int]:
        return sorted(self._groups)

    def take_batch(self) -> WriteBatch:
        """The records written since the last call, for the ``GroupCommitter``; batches must be committed in
        the order they were taken."""
        if self._collect_due or len(self.wal.segment_starts()) != self._segments_seen:
            self._collect()
        batch = self._batch
        self._batch = WriteBatch(batch.next_lsn)
        return batch

    def sync(self) -> None:
        """Write everything pending and make it durable, on this thread."""
        self.commit(self.take_batch())

    def commit(self, batch: WriteBatch) -> None:
        """Write ``batch`` (taken earlier) and make it durable, on this thread."""
        self.wal.write([batch])
        self.wal.sync()

    def close(self) -> None:
        """Close the log (after the ``GroupCommitter`` using it); records not synced or committed are dropped."""
        self.wal.close()

    # -- used by GroupStorage -------------------------------------------------------------------------------
    def _log(self, kind: int, group: int, payload: bytes) -> int:
        return self._batch.add(kind, group, payload)

    def _write_snapshot(self, group: int, snap: Snapshot) -> str:
        """The snapshot file goes with the pending batch, written before its records; returns its path."""
        self._batch.snapshots.append((self._snapshot_dir, group, snap))
        return posixpath.join(self._snapshot_dir, snapshot_file_name(group, snap.meta.index, snap.meta.term))

    def _obsolete(self, path: str) -> None:
        self._batch.obsolete_files.append(path)

    def _note_dead_records(self) -> None:
        self._collect_due = True

    # -- internals ----------------------------------------------------------------------------------------
    def _replay(self, lsn: int, kind: int, group: int, payload: memoryview, path: str, offset: int) -> None:
        if kind == RecordKind.GROUP_REMOVED:
            self._groups.pop(group, None)
            return
        self.group(group)._replay(lsn, kind, payload, path, offset)

    def _collect(self) -> None:
        """Free the oldest segments that only hold dead records, rewriting a few live ones if that is enough."""
        self._collect_due = False
        starts = self.wal.segment_starts()
        self._segments_seen = len(starts)
        floors = [f for f in (g._entries_floor() for g in self._groups.values()) if f is not None]
        floor = min(starts[-1], *floors) if floors else starts[-1]
        boundary = max((s for s in starts[1:] if s <= floor), default=None)
        if boundary is None:
            return
        for group in self._groups.values():
            group._rewrite_records_before(boundary)
        self._batch.release_lsn = boundary

    def _remove_unreferenced_snapshots(self) -> None:
        keep = {g._snapshot_path for g in self._groups.values()}
        stale = [
            name
            for name in self.disk.list_dir(self._snapshot_dir)
            if name.endswith((SUFFIX, SUFFIX + ".tmp")) and posixpath.join(self._snapshot_dir, name) not in keep
        ]
        for name in stale:
            self.disk.remove(posixpath.join(self._snapshot_dir, name))
        if stale:
            self.disk.sync_dir(self._snapshot_dir)
