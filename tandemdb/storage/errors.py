"""Errors of the storage layer. Each names what went wrong and, where the node cannot go on, what to do."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

REBUILD_ADVICE = (
    "this node's data can no longer be trusted: rebuild the node from its peers (stop it, remove its data "
    "directory, and add it back to its groups as a new member; see docs/storage.md, 'Rebuilding a node')"
)


class StorageError(Exception):
    """Base class of every storage error."""


class CorruptionError(StorageError):
    """A checksum or structural check failed on data that was (or may have been) acknowledged as durable."""

    def __init__(self, path: str, offset: int, group: int | None, reason: str) -> None:
        where = f"group {group}" if group is not None else "group unknown"
        super().__init__(f"{path}: corrupt data at byte offset {offset} ({where}): {reason}; {REBUILD_ADVICE}")
        self.path = path
        self.offset = offset
        self.group = group
        self.reason = reason


class SnapshotCorruptError(CorruptionError):
    """A snapshot file failed its checksum or does not hold the snapshot the log says it holds."""


class WrongDataDirError(StorageError):
    """The data directory belongs to another cluster or node: refuse it rather than mix two histories."""


class ClusterIdMismatchError(WrongDataDirError):
    def __init__(self, path: str, found: int, expected: int) -> None:
        super().__init__(
            f"{path} belongs to cluster {found:#x}, not to cluster {expected:#x}: "
            "point the node at its own data directory"
        )


class NodeIdMismatchError(WrongDataDirError):
    def __init__(self, path: str, found: int, expected: int) -> None:
        super().__init__(
            f"{path} belongs to node {found}, not to node {expected}: point the node at its own data directory"
        )


class UnsupportedVersionError(StorageError):
    def __init__(self, path: str, found: int, supported: int) -> None:
        super().__init__(
            f"{path} was written in storage format version {found}, newer than the version {supported} this "
            "build understands: run a newer tandem"
        )


class DiskFullError(StorageError):
    """The disk (or quota) is full. The write that hit it was not accepted; the log is still valid."""


class LogFailedError(StorageError):
    """An earlier write or sync failed; what is durable is only known after reopening (replaying) the log."""


@contextmanager
def disk_full_as_error(what: str) -> Iterator[None]:
    """Turn ENOSPC / EDQUOT raised by the disk into a ``DiskFullError`` that says what was being written."""
    try:
        yield
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(f"no space left on device while {what}: the write was not accepted") from e
        raise
