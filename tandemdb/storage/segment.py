"""Segment files of the write-ahead log: their names, their header, and the scan that validates their records.

A segment is named ``<seq as 16 hex digits>.wal`` and starts with a 64-byte header (little-endian)::

    offset  size  field
    0       8     magic b"TNDMWAL\\0"
    8       4     format version
    12      4     zero
    16      8     cluster id
    24      8     node id
    32      8     segment sequence number (the one in the file name)
    40      8     LSN of the segment's first record
    48      12    zero
    60      4     CRC32C of bytes 0..60

Records (``tandemdb.storage.record``) follow back to back; the rest of the file is zeros, written when the segment
was created (``create_zeroed_file``). The
scan applies the recovery rules of ``docs/storage.md``: the log ends at an all-zero record header after which
the segment holds only zeros; a bad record may be a torn write only in the last segment, and only if nothing
was written past the point where it stops; anything else raises ``CorruptionError``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from crc32c import crc32c

from .disk import Disk, File
from .errors import ClusterIdMismatchError, CorruptionError, NodeIdMismatchError, UnsupportedVersionError
from .record import END_MARK, HEADER, RecordKind

MAGIC = b"TNDMWAL\0"
FORMAT_VERSION = 1
_SEGMENT_HEADER = struct.Struct("<8sIIQQQQ12xI")
SEGMENT_HEADER_SIZE = _SEGMENT_HEADER.size
_ZERO_RECORD_HEADER = bytes(HEADER.size)
_KINDS = frozenset(RecordKind)
_ZEROS = memoryview(bytes(1 << 20))

# on_record(lsn, kind, group, payload, path, offset): may raise to reject the record.
OnRecord = Callable[[int, int, int, memoryview, str, int], None]


def segment_name(seq: int) -> str:
    return f"{seq:016x}.wal"


def parse_segment_name(name: str) -> int | None:
    stem, dot, ext = name.partition(".")
    if ext != "wal" or len(stem) != 16:
        return None
    try:
        return int(stem, 16)
    except ValueError:
        return None


def encode_segment_header(cluster_id: int, node_id: int, seq: int, first_lsn: int) -> bytes:
    head = _SEGMENT_HEADER.pack(MAGIC, FORMAT_VERSION, 0, cluster_id, node_id, seq, first_lsn, 0)[:-4]
    return head + struct.pack("<I", crc32c(head))


def create_zeroed_file(disk: Disk, path: str, size: int) -> File:
    """A new file of ``size`` zero bytes, written and synced, to become a segment.

    The zeros are written rather than reserved with ``posix_fallocate``: on ext4 and XFS a write into reserved,
    unwritten space changes the file's extent map, so every fdatasync after it must also commit file system
    metadata through the journal, while an overwrite of written blocks syncs the data alone, which is about
    twice as fast for a typical group-commit batch (``docs/storage.md``, "Segment files").
    """
    f = disk.open(path, create=True)
    try:
        for offset in range(0, size, len(_ZEROS)):
            f.write_at(offset, _ZEROS[: size - offset])
        f.sync()
    except BaseException:
        f.close()
        disk.remove(path)
        raise
    return f


def check_segment_header(data: bytes, path: str, cluster_id: int, node_id: int, seq: int) -> int:
    """Validate a segment's header against the node's identity; returns the LSN of its first record."""
    if len(data) < SEGMENT_HEADER_SIZE or data[:8] != MAGIC:
        raise CorruptionError(path, 0, None, "not a tandem write-ahead log segment (bad magic or too short)")
    magic, version, _, cluster, node, header_seq, first_lsn, crc = _SEGMENT_HEADER.unpack_from(data)
    # Every format version keeps this header's size and checksum, so damage is told from a newer version.
    if crc != crc32c(data[: SEGMENT_HEADER_SIZE - 4]) or version == 0:
        raise CorruptionError(path, 0, None, "segment header checksum mismatch")
    if version > FORMAT_VERSION:
        raise UnsupportedVersionError(path, version, FORMAT_VERSION)
    if cluster != cluster_id:
        raise ClusterIdMismatchError(path, cluster, cluster_id)
    if node != node_id:
        raise NodeIdMismatchError(path, node, node_id)
    if header_seq != seq:
        raise CorruptionError(path, 32, None, f"header says segment {header_seq} but the file name says {seq}")
    return first_lsn


@dataclass(frozen=True, slots=True)
class Scan:  # not a NamedTuple: its ``count`` would shadow ``tuple.count``
    end: int  # offset just past the last valid record: where the log continues
    count: int  # valid records
    torn_end: int  # a torn tail occupies [end, torn_end); torn_end == end when there is none


def scan_records(data: bytes, path: str, first_lsn: int, *, last: bool, on_record: OnRecord) -> Scan:
    """Check every record of a segment and hand each valid one to ``on_record``, in order."""
    view = memoryview(data)
    size = len(data)
    unpack = HEADER.unpack_from
    off = SEGMENT_HEADER_SIZE
    lsn = first_lsn
    while size - off >= HEADER.size:
        header_crc, payload_crc, length, kind, group = unpack(data, off)
        if crc32c(view[off + 4 : off + HEADER.size]) != header_crc:
            if view[off : off + HEADER.size] == _ZERO_RECORD_HEADER:
                break
            reason = f"record header checksum mismatch (the damaged header names group {group})"
            return _bad_record(data, path, off, lsn - first_lsn, None, HEADER.size, last, reason)
        end = off + HEADER.size + length  # where the end mark is
        if end >= size:
            raise CorruptionError(path, off, group, f"record length {length} runs past the end of the segment")
        payload = view[off + HEADER.size : end]
        if crc32c(payload) != payload_crc or data[end] != END_MARK:
            reason = "record payload checksum mismatch"
            return _bad_record(data, path, off, lsn - first_lsn, group, end + 1 - off, last, reason)
        if kind not in _KINDS:
            raise CorruptionError(path, off, group, f"unknown record kind {kind}")
        try:
            on_record(lsn, kind, group, payload, path, off)
        except CorruptionError:
            raise
        except Exception as e:
            raise CorruptionError(path, off, group, f"record cannot be replayed: {e}") from e
        lsn += 1
        off = end + 1
    if data.count(0, off) != size - off:
        first_nonzero = len(data) - len(data[off:].lstrip(b"\0"))
        raise CorruptionError(
            path, first_nonzero, None, f"data after the end of the log (the record header at offset {off} is zero)"
        )
    return Scan(off, lsn - first_lsn, off)


def _bad_record(
    data: bytes, path: str, off: int, count: int, group: int | None, length: int, last: bool, reason: str
) -> Scan:
    """A record failed its checks: a torn tail if nothing was written past where it stops, else corruption."""
    if last:
        written_end = len(data.rstrip(b"\0"))
        # A torn write keeps a prefix of what was written, so its last byte (the end mark, or the last header
        # byte when the header itself is torn) is missing, and nothing follows it.
        if written_end < off + length:
            return Scan(off, count, written_end)
        reason += " in a record that was completely written"
        if written_end > off + length:
            reason += " and is followed by more log"
    else:
        reason += " in a sealed segment"
    raise CorruptionError(path, off, group, reason)
