"""Write-ahead log records: their byte layout, their payloads, and ``WriteBatch`` which encodes them for one write.

A record is a 24-byte header, a msgpack payload, and a one-byte end mark (integers little-endian)::

    offset  size  field
    0       4     header checksum: CRC32C of bytes 4..24
    4       4     payload checksum: CRC32C of the payload
    8       4     payload length n
    12      1     kind (RecordKind)
    13      3     zero
    16      8     group id
    24      n     payload (msgpack)
    24+n    1     end mark 0xA5

The header has its own checksum so that recovery can trust a record's length and group even when the payload
is damaged; the end mark makes a fully written record distinguishable from a torn one (a torn write is a
prefix, so its end mark is missing). ``docs/storage.md`` gives the rules recovery derives from this.

Every record has a log sequence number (LSN): records are numbered consecutively across the whole log, and a
segment's header holds the LSN of its first record. The storage layer uses LSNs to know which segments a group
still needs.
"""

from __future__ import annotations

import struct
from enum import IntEnum

import msgspec
from crc32c import crc32c

from ..raft.types import Entry, HardState, Snapshot

HEADER = struct.Struct("<IIIB3xQ")  # header checksum, payload checksum, length, kind, group
CHECKED = struct.Struct("<IIB3xQ")  # the header fields the header checksum covers
_U32 = struct.Struct("<I")
END_MARK = 0xA5
_END = bytes([END_MARK])
OVERHEAD = HEADER.size + 1  # bytes a record adds to its payload


class RecordKind(IntEnum):
    HARD_STATE = 1  # payload: HardState; the group's latest one wins
    ENTRIES = 2  # payload: list[Entry], consecutive; appending at index i drops the group's entries from i on
    SNAPSHOT = 3  # payload: SnapshotMarker; the snapshot itself is a separate file
    COMPACTION = 4  # payload: CompactionMarker
    GROUP_REMOVED = 5  # empty payload: the group is gone from this node; its earlier records are dead


class SnapshotMarker(msgspec.Struct, array_like=True, gc=False):
    """The group's snapshot is now the one at (index, term); if ``replaces_log``, its log restarts there."""

    index: int
    term: int
    replaces_log: bool


class CompactionMarker(msgspec.Struct, array_like=True, gc=False):
    """The group's entries up to and including ``index`` (of ``term``) are discarded."""

    index: int
    term: int


encode = msgspec.msgpack.Encoder().encode
decode_entries = msgspec.msgpack.Decoder(list[Entry]).decode
decode_hard_state = msgspec.msgpack.Decoder(HardState).decode
decode_snapshot_marker = msgspec.msgpack.Decoder(SnapshotMarker).decode
decode_compaction_marker = msgspec.msgpack.Decoder(CompactionMarker).decode


class WriteBatch:
    """Records encoded back to back, written to the log with one write.

    ``first_lsn`` is the LSN its first record will have; batches must reach the log in LSN order. A batch also
    carries the snapshot files its records point at (``snapshots``: written and synced before the records, by
    whoever writes the batch, so never on the event loop), and work that is safe only once it is durable:
    ``release_lsn`` (segments holding only records below it may be deleted) and ``obsolete_files`` (snapshot
    files its records made unnecessary).
    """

    __slots__ = ("first_lsn", "count", "buf", "snapshots", "release_lsn", "obsolete_files")

    def __init__(self, first_lsn: int) -> None:
        self.first_lsn = first_lsn
        self.count = 0
        self.buf = bytearray()
        self.snapshots: list[tuple[str, int, Snapshot]] = []  # (directory, group, snapshot) of files to write
        self.release_lsn = 0
        self.obsolete_files: list[str] = []

    @property
    def next_lsn(self) -> int:
        return self.first_lsn + self.count

    def add(self, kind: int, group: int, payload: bytes) -> int:
        """Append one record; returns its LSN."""
        checked = CHECKED.pack(crc32c(payload), len(payload), kind, group)
        buf = self.buf
        buf += _U32.pack(crc32c(checked))
        buf += checked
        buf += payload
        buf += _END
        self.count += 1
        return self.first_lsn + self.count - 1
