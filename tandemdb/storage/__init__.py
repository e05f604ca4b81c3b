"""Node-local durability: one write-ahead log per node shared by all its Raft groups, snapshot files, recovery.

- ``NodeStorage`` opens a data directory, replays the log, and hands out one ``GroupStorage`` per group (the
  ``tandemdb.raft.storage.Storage`` protocol plus the writes the application makes from ``Ready``).
- ``WAL`` is the log itself, synchronous and single-threaded. The server drives it from the threads in
  ``tandemdb.storage.threads`` (``GroupCommitter`` writes and fdatasyncs it, ``SpareSegments`` zero-fills its next
  segment ahead of time); this package does not import them, so importing it imports no ``threading``.
- ``Disk`` is the seam to the file system: ``RealDisk`` for the OS, ``SimDisk`` for the simulator.

The on-disk format, the recovery rules and how to rebuild a damaged node are described in ``docs/storage.md``.
"""

from .disk import Disk, File, RealDisk
from .errors import (
    ClusterIdMismatchError,
    CorruptionError,
    DiskFullError,
    LogFailedError,
    NodeIdMismatchError,
    SnapshotCorruptError,
    StorageError,
    UnsupportedVersionError,
    WrongDataDirError,
)
from .group_storage import GroupStorage
from .node_storage import NodeStorage
from .record import RecordKind, WriteBatch
from .simdisk import SimDisk
from .wal import DEFAULT_SEGMENT_SIZE, WAL

__all__ = [
    "DEFAULT_SEGMENT_SIZE",
    "WAL",
    "ClusterIdMismatchError",
    "CorruptionError",
    "Disk",
    "DiskFullError",
    "File",
    "GroupStorage",
    "LogFailedError",
    "NodeIdMismatchError",
    "NodeStorage",
    "RealDisk",
    "RecordKind",
    "SimDisk",
    "SnapshotCorruptError",
    "StorageError",
    "UnsupportedVersionError",
    "WriteBatch",
    "WrongDataDirError",
]
