"""The disk seam: the few file operations the storage layer needs, and ``RealDisk`` which maps them onto ``os``.

Everything in ``tandemdb.storage`` does its I/O through a ``Disk``, so the simulator can swap in ``SimDisk``
(``tandemdb.storage.simdisk``) and run the very same storage code on a disk that loses unsynced writes, tears
writes and flips bits. Errors are raised as ``OSError`` exactly as the operating system reports them; the
storage layer decides what they mean (``ENOSPC`` becomes ``DiskFullError``).

Durability contract (POSIX): data written to a file survives a crash only after ``datasync``/``sync`` of that
file returned; a created, renamed or removed name survives only after ``sync_dir`` of its directory returned.
"""

from __future__ import annotations

import os
from typing import Protocol

Buffer = bytes | bytearray | memoryview


class File(Protocol):
    def write_at(self, offset: int, data: Buffer) -> None:
        """Write all of ``data`` at ``offset``, extending the file if needed (``pwrite``)."""
        ...

    def read_at(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset``; fewer only at the end of the file."""
        ...

    def size(self) -> int: ...

    def datasync(self) -> None:
        """Make the data written so far durable (``fdatasync``)."""
        ...

    def sync(self) -> None:
        """Make the data and all metadata durable (``fsync``)."""
        ...

    def close(self) -> None: ...


class Disk(Protocol):
    def open(self, path: str, *, create: bool = False) -> File:
        """Open ``path`` for reading and writing; ``create`` makes it (empty) if missing and empties it if not."""
        ...

    def list_dir(self, path: str) -> list[str]:
        """Names in the directory ``path``, sorted."""
        ...

    def make_dirs(self, path: str) -> None: ...

    def rename(self, src: str, dst: str) -> None:
        """Atomically replace ``dst`` by ``src``."""
        ...

    def remove(self, path: str) -> None: ...

    def sync_dir(self, path: str) -> None:
        """Make creations, renames and removals in directory ``path`` durable."""
        ...


class RealFile:
    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def write_at(self, offset: int, data: Buffer) -> None:
        view = memoryview(data)
        while view:  # pwrite may write less than asked (signals, some file systems)
            n = os.pwrite(self._fd, view, offset)
            view = view[n:]
            offset += n

    def read_at(self, offset: int, size: int) -> bytes:
        chunks = []
        while size > 0:
            chunk = os.pread(self._fd, size, offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def datasync(self) -> None:
        os.fdatasync(self._fd)

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


class RealDisk:
    """The operating system's file system."""

    def open(self, path: str, *, create: bool = False) -> RealFile:
        flags = os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT | os.O_TRUNC if create else 0)
        return RealFile(os.open(path, flags, 0o644))

    def list_dir(self, path: str) -> list[str]:
        return sorted(os.listdir(path))

    def make_dirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def rename(self, src: str, dst: str) -> None:
        os.rename(src, dst)

    def remove(self, path: str) -> None:
        os.remove(path)

    def sync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
