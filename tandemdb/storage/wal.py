"""The node's write-ahead log: one per node, shared by all Raft groups on it, so one fdatasync commits them all.

The log is a directory of zero-filled segment files (``tandemdb.storage.segment``) holding records
(``tandemdb.storage.record``). The core is synchronous and single-threaded: ``write(batches)`` appends encoded
``WriteBatch``es with one write, ``sync()`` makes them durable with one fdatasync. The simulator calls it
directly on a ``SimDisk``; the server drives it from one dedicated thread (``GroupCommitter``), and has the
next segment zero-filled ahead of time by another (``SpareSegments``).

Invariants the recovery rules rely on (``docs/storage.md``):

- a batch never straddles segments: if it does not fit, the next segment is created first (a file that is
  complete, zero-filled and synced under a temporary name, then renamed, then the directory synced), the
  current one is synced, and the whole batch goes to the new segment;
- so every segment but the last is fully durable, and within the last one writes reach the disk in order;
- a write that fails is zeroed again and synced, so no part of it can be read back later.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from .disk import Disk, File
from .errors import CorruptionError, LogFailedError, StorageError, disk_full_as_error
from .record import HEADER, WriteBatch
from .segment import (
    SEGMENT_HEADER_SIZE,
    OnRecord,
    check_segment_header,
    create_zeroed_file,
    encode_segment_header,
    parse_segment_name,
    scan_records,
    segment_name,
)
from .snapshot_file import write_snapshot_file


class Spares(Protocol):
    """Who prepares the next segment ahead of time (``storage.threads.SpareSegments``; none in the simulator)."""

    def request(self) -> None:
        """The current segment is half full: prepare the next one."""

    def take(self, size: int) -> tuple[File, str] | None:
        """A prepared segment of at least ``size`` bytes (open file, temporary path), if one is ready."""

DEFAULT_SEGMENT_SIZE = 16 << 20


class _Segment(NamedTuple):
    seq: int
    first_lsn: int
    path: str


def _ignore_record(*_: object) -> None:
    pass


class WAL:
    """Use ``WAL.open``. Not thread-safe: one thread writes and syncs (``segment_starts`` may be read anywhere)."""

    def __init__(self, disk: Disk, directory: str, cluster_id: int, node_id: int, segment_size: int) -> None:
        if segment_size < SEGMENT_HEADER_SIZE + HEADER.size + 1:
            raise ValueError(f"segment size {segment_size} cannot hold a record")
        self._disk = disk
        self._dir = directory
        self._cluster_id = cluster_id
        self._node_id = node_id
        self._segment_size = segment_size
        self._segments: list[_Segment] = []  # oldest first; rebound, never changed in place (see segment_starts)
        self._file: File | None = None  # the last segment, the one being appended to
        self._offset = 0  # where the next record goes in it
        self._capacity = 0  # its size
        self._next_lsn = 0
        self._dirty = False  # written since the last sync
        self._release_lsn = 0  # segments holding only records below this may go, once synced
        self._obsolete: list[str] = []  # files to remove once synced
        self._failure: BaseException | None = None
        self.spares: Spares | None = None  # set while a SpareSegments thread serves this log

    @classmethod
    def open(
        cls,
        disk: Disk,
        directory: str,
        *,
        cluster_id: int,
        node_id: int,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
        on_record: OnRecord | None = None,
    ) -> WAL:
        """Open (or create) the log in ``directory`` and replay it: ``on_record(lsn, kind, group, payload, path,
        offset)`` sees every valid record in order. Raises ``CorruptionError`` for damage that is not a torn
        tail, ``WrongDataDirError`` / ``UnsupportedVersionError`` for a directory this node must not use."""
        wal = cls(disk, directory, cluster_id, node_id, segment_size)
        wal._recover(on_record or _ignore_record)
        return wal

    @property
    def disk(self) -> Disk:
        return self._disk

    @property
    def directory(self) -> str:
        return self._dir

    @property
    def segment_size(self) -> int:
        return self._segment_size

    @property
    def next_lsn(self) -> int:
        """The LSN the next written record gets."""
        return self._next_lsn

    def segment_starts(self) -> tuple[int, ...]:
        """The first LSN of each segment, oldest first; safe to call from another thread."""
        return tuple(s.first_lsn for s in self._segments)

    def write(self, batches: Sequence[WriteBatch]) -> None:
        """Write the batches' snapshot files (durably: their records point at them), then append the batches'
        records, in order, with one write. The records are not durable until ``sync``."""
        self._check_usable()
        for batch in batches:
            for directory, group, snap in batch.snapshots:
                write_snapshot_file(self._disk, directory, group, snap)
        lsn = self._next_lsn
        for batch in batches:
            if batch.first_lsn != lsn:
                raise LogFailedError(
                    f"a batch starts at record {batch.first_lsn} but the log continues at record {lsn}: an earlier "
                    "write failed (or batches were submitted out of order); reopen the storage to continue from "
                    "what is durable"
                )
            lsn += batch.count
        data = batches[0].buf if len(batches) == 1 else b"".join([b.buf for b in batches])
        if data:
            if self._offset + len(data) > self._capacity:
                self._rotate(len(data))
            assert self._file is not None
            offset = self._offset
            try:
                with disk_full_as_error(f"appending to {self._segments[-1].path}"):
                    self._file.write_at(offset, data)
            except (OSError, StorageError):
                self._undo_write(offset, len(data))
                raise
            self._offset = offset + len(data)
            self._dirty = True
            if self._offset * 2 > self._capacity and self.spares is not None:
                self.spares.request()
        self._next_lsn = lsn
        for batch in batches:
            self._release_lsn = max(self._release_lsn, batch.release_lsn)
            self._obsolete += batch.obsolete_files

    def sync(self) -> None:
        """Make everything written so far durable (one fdatasync), then delete what that made unnecessary."""
        self._check_usable()
        if self._dirty:
            assert self._file is not None
            try:
                with disk_full_as_error(f"syncing {self._segments[-1].path}"):
                    self._file.datasync()
            except (OSError, StorageError) as e:
                # After a failed fdatasync the page cache no longer tells what is on disk: only a replay does.
                self._failure = e
                raise
            self._dirty = False
        if self._obsolete or (len(self._segments) > 1 and self._segments[1].first_lsn <= self._release_lsn):
            self._collect_garbage()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- recovery -----------------------------------------------------------------------------------------
    def _recover(self, on_record: OnRecord) -> None:
        disk, directory = self._disk, self._dir
        disk.make_dirs(directory)
        names = disk.list_dir(directory)
        leftovers = [n for n in names if n.endswith(".tmp")]  # segments whose creation was interrupted
        for name in leftovers:
            disk.remove(posixpath.join(directory, name))
        if leftovers:
            disk.sync_dir(directory)
        seqs = sorted(s for s in map(parse_segment_name, names) if s is not None)
        if not seqs:
            self._install_segment(*self._prepare_segment(1, self._segment_size))
            return
        segments = []
        for i, seq in enumerate(seqs):
            path = posixpath.join(directory, segment_name(seq))
            if seq != seqs[0] + i:
                raise CorruptionError(path, 0, None, "segment file missing between existing segments")
            f = disk.open(path)
            try:  # identity first: refuse a foreign directory before replaying anything from it
                first_lsn = check_segment_header(
                    f.read_at(0, SEGMENT_HEADER_SIZE), path, self._cluster_id, self._node_id, seq
                )
            finally:
                f.close()
            segments.append(_Segment(seq, first_lsn, path))
        for i, segment in enumerate(segments):
            if i > 0 and segment.first_lsn != self._next_lsn:
                raise CorruptionError(
                    segment.path,
                    40,
                    None,
                    f"segment starts at record {segment.first_lsn} but the previous one ends before record "
                    f"{self._next_lsn}",
                )
            f = disk.open(segment.path)
            data = f.read_at(0, f.size())
            last = i == len(segments) - 1
            scan = scan_records(data, segment.path, segment.first_lsn, last=last, on_record=on_record)
            self._next_lsn = segment.first_lsn + scan.count
            if not last:
                f.close()
        self._segments = segments
        self._file, self._offset, self._capacity = f, scan.end, len(data)
        if scan.torn_end > scan.end:
            self._clear_torn_tail(scan.end, scan.torn_end)

    def _clear_torn_tail(self, start: int, end: int) -> None:
        """Zero a torn tail so new records can follow. The payload part goes first and each step is synced:
        a crash in between leaves a tail that the next recovery still recognises as torn."""
        assert self._file is not None
        split = min(end, start + HEADER.size)
        with disk_full_as_error(f"clearing the torn tail of {self._segments[-1].path}"):
            if end > split:
                self._file.write_at(split, bytes(end - split))
                self._file.datasync()
            self._file.write_at(start, bytes(split - start))
            self._file.datasync()

    # -- segments -----------------------------------------------------------------------------------------
    def _prepare_segment(self, seq: int, size: int) -> tuple[_Segment, File, str]:
        """A complete, zero-filled, synced segment file under a temporary name; nothing in the log changes."""
        path = posixpath.join(self._dir, segment_name(seq))
        with disk_full_as_error(f"creating log segment {path}"):
            spare = self.spares.take(size) if self.spares is not None else None
            f, tmp = spare or (create_zeroed_file(self._disk, path + ".tmp", size), path + ".tmp")
            try:
                f.write_at(0, encode_segment_header(self._cluster_id, self._node_id, seq, self._next_lsn))
                f.datasync()
            except BaseException:
                f.close()
                self._disk.remove(tmp)
                raise
        return _Segment(seq, self._next_lsn, path), f, tmp

    def _install_segment(self, segment: _Segment, f: File, tmp: str) -> None:
        self._disk.rename(tmp, segment.path)
        self._disk.sync_dir(self._dir)
        self._segments = [*self._segments, segment]
        self._file, self._offset, self._capacity = f, SEGMENT_HEADER_SIZE, f.size()

    def _rotate(self, needed: int) -> None:
        size = max(self._segment_size, SEGMENT_HEADER_SIZE + needed)
        prepared = self._prepare_segment(self._segments[-1].seq + 1, size)
        assert self._file is not None
        try:
            with disk_full_as_error(f"sealing {self._segments[-1].path}"):
                if self._dirty:  # the older segment must be durable before the newer one holds anything
                    self._file.datasync()
                    self._dirty = False
                self._file.close()
                self._file = None
                self._install_segment(*prepared)
        except (OSError, StorageError) as e:
            self._failure = e
            if prepared[1] is not self._file:
                prepared[1].close()  # the leftover file, if any, goes at the next recovery
            raise

    def _undo_write(self, offset: int, length: int) -> None:
        """Zero, durably, whatever part of a failed write reached the file."""
        assert self._file is not None
        try:
            self._file.write_at(offset, bytes(length))
            self._file.datasync()
        except OSError as e:
            self._failure = e

    def _collect_garbage(self) -> None:
        segments = self._segments
        keep = 0
        while keep + 1 < len(segments) and segments[keep + 1].first_lsn <= self._release_lsn:
            keep += 1
        self._segments = segments[keep:]
        for segment in segments[:keep]:
            self._disk.remove(segment.path)
        if keep:
            self._disk.sync_dir(self._dir)
        obsolete, self._obsolete = self._obsolete, []
        for path in obsolete:
            self._disk.remove(path)
        for directory in {posixpath.dirname(p) for p in obsolete}:
            self._disk.sync_dir(directory)

    def _check_usable(self) -> None:
        if self._failure is not None:
            raise LogFailedError(
                f"an earlier write or sync of the log failed ({self._failure}); reopen the storage to continue "
                "from what is durable"
            ) from self._failure
