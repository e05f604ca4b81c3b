"""Snapshot files: one per group and snapshot, written atomically and verified whenever loaded.

A file is named ``<group>-<term>-<index>.snap`` (16 hex digits each) and laid out as (little-endian)::

    offset  size  field
    0       8     magic b"TNDMSNAP"
    8       4     format version
    12      4     header length m
    16      m     header, msgpack: [group, index, term, conf state, data length]
    16+m    n     data (the state machine's snapshot)
    16+m+n  4     CRC32C of everything before it

It is written under ``<name>.tmp``, synced, renamed to its name, and the directory synced; only then does the
log record a marker pointing at it, so a file the log points at is always complete.
"""

from __future__ import annotations

import posixpath
import struct

import msgspec
from crc32c import crc32c

from ..raft.types import ConfState, Snapshot, SnapshotMeta
from .disk import Disk
from .errors import SnapshotCorruptError, UnsupportedVersionError, disk_full_as_error

MAGIC = b"TNDMSNAP"
FORMAT_VERSION = 1
SUFFIX = ".snap"
_PREFIX = struct.Struct("<8sII")  # magic, version, header length
_CRC = struct.Struct("<I")


class _Header(msgspec.Struct, array_like=True):
    group: int
    index: int
    term: int
    conf_state: ConfState
    data_length: int


_encode = msgspec.msgpack.Encoder().encode
_decode_header = msgspec.msgpack.Decoder(_Header).decode


def snapshot_file_name(group: int, index: int, term: int) -> str:
    return f"{group:016x}-{term:016x}-{index:016x}{SUFFIX}"


def write_snapshot_file(disk: Disk, directory: str, group: int, snap: Snapshot) -> str:
    """Durably write ``snap`` of ``group`` into ``directory`` (temporary file, sync, rename, directory sync);
    returns the file's path."""
    meta = snap.meta
    path = posixpath.join(directory, snapshot_file_name(group, meta.index, meta.term))
    tmp = path + ".tmp"
    header = _encode(_Header(group, meta.index, meta.term, meta.conf_state, len(snap.data)))
    head = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header)) + header
    crc = crc32c(snap.data, crc32c(head))
    f = disk.open(tmp, create=True)
    try:
        with disk_full_as_error(f"writing snapshot file {path}"):
            f.write_at(0, head)
            f.write_at(len(head), snap.data)
            f.write_at(len(head) + len(snap.data), _CRC.pack(crc))
            f.sync()
    except BaseException:
        f.close()
        disk.remove(tmp)
        raise
    f.close()
    disk.rename(tmp, path)
    disk.sync_dir(directory)
    return path


def read_snapshot_file(disk: Disk, path: str, group: int, index: int, term: int) -> Snapshot:
    """Load and verify the snapshot the log says ``path`` holds; ``SnapshotCorruptError`` if it does not."""
    try:
        f = disk.open(path)
    except FileNotFoundError:
        raise SnapshotCorruptError(path, 0, group, "the snapshot file the log points at is missing") from None
    try:
        data = f.read_at(0, f.size())
    finally:
        f.close()
    if len(data) < _PREFIX.size + _CRC.size or data[:8] != MAGIC:
        raise SnapshotCorruptError(path, 0, group, "not a tandem snapshot file (bad magic or too short)")
    _, version, header_length = _PREFIX.unpack_from(data)
    crc_offset = len(data) - _CRC.size
    # Every format version keeps the magic, the version and the trailing checksum where they are.
    if crc32c(memoryview(data)[:crc_offset]) != _CRC.unpack_from(data, crc_offset)[0]:
        raise SnapshotCorruptError(path, crc_offset, group, "snapshot checksum mismatch")
    if version > FORMAT_VERSION:
        raise UnsupportedVersionError(path, version, FORMAT_VERSION)
    data_offset = _PREFIX.size + header_length
    try:
        header = _decode_header(data[_PREFIX.size : data_offset])
    except msgspec.DecodeError as e:
        raise SnapshotCorruptError(path, _PREFIX.size, group, f"unreadable snapshot header: {e}") from None
    if (header.group, header.index, header.term) != (group, index, term):
        raise SnapshotCorruptError(
            path,
            _PREFIX.size,
            group,
            f"the file holds group {header.group}'s snapshot at index {header.index}, term {header.term}, but the "
            f"log expects group {group}'s at index {index}, term {term}",
        )
    if data_offset + header.data_length != crc_offset:
        raise SnapshotCorruptError(path, _PREFIX.size, group, "snapshot data length does not match the file size")
    return Snapshot(SnapshotMeta(index, term, header.conf_state), data[data_offset:crc_offset])
