"""An in-memory ``Disk`` for deterministic simulation: it loses unsynced writes on crash, tears writes, flips bits.

Every file keeps what is durable apart from the unsynced changes made since its last ``datasync``/``sync``.
``crash()`` models power loss: for each file a random prefix of its unsynced changes reaches the platter, in
order (possibly none of them), and with ``tear=True`` the change just past that prefix is torn (a random
prefix of its bytes survives). Names follow POSIX: a created, renamed or removed name survives a crash only if
its directory was synced with ``sync_dir`` afterwards. Directories themselves are durable once made.

All randomness comes from the injected ``random.Random``, so a seed replays a run exactly. ``capacity``
(bytes, over all files) makes writes fail with ``ENOSPC``; ``fail_next_write`` makes the
next write fail after a prefix of it was written, as a thin-provisioned or copy-on-write file system may.
"""

from __future__ import annotations

import errno
import os
import posixpath
import random

from .disk import Buffer

_Change = tuple[int, bytes] | int  # a write (offset, data) or a new file size


def _apply(buf: bytearray, change: _Change) -> None:
    if isinstance(change, int):
        if change > len(buf):
            buf.extend(bytes(change - len(buf)))
        else:
            del buf[change:]
        return
    offset, data = change
    end = offset + len(data)
    if end > len(buf):
        buf.extend(bytes(end - len(buf)))
    buf[offset:end] = data


class _Inode:
    __slots__ = ("data", "durable", "unsynced")

    def __init__(self) -> None:
        self.data = bytearray()  # what reads see
        self.durable = bytearray()  # what survives a crash
        self.unsynced: list[_Change] = []  # changes since the last sync, oldest first

    def change(self, change: _Change) -> None:
        _apply(self.data, change)
        self.unsynced.append(change)

    def sync(self) -> None:
        for change in self.unsynced:
            _apply(self.durable, change)
        self.unsynced.clear()


class SimFile:
    __slots__ = ("_disk", "_inode", "_path", "_epoch")

    def __init__(self, disk: SimDisk, inode: _Inode, path: str) -> None:
        self._disk = disk
        self._inode = inode
        self._path = path
        self._epoch = disk._epoch

    def _live(self) -> _Inode:
        if self._epoch != self._disk._epoch:
            raise RuntimeError(f"{self._path}: file handle used after the disk crashed")
        return self._inode

    def write_at(self, offset: int, data: Buffer) -> None:
        inode = self._live()
        data = bytes(data)
        keep = len(data)
        failure = self._disk._take_write_failure()
        if failure is not None:
            keep = min(keep, failure)
        growth = offset + keep - len(inode.data)
        if growth > 0 and growth > self._disk._room():
            keep = max(0, keep - int(growth - self._disk._room()))
            failure = keep
        if keep > 0:
            inode.change((offset, data[:keep]))
        if failure is not None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self._path)

    def read_at(self, offset: int, size: int) -> bytes:
        return bytes(self._live().data[offset : offset + size])

    def size(self) -> int:
        return len(self._live().data)

    def datasync(self) -> None:
        self._live().sync()

    sync = datasync  # sizes are the only metadata modelled, and datasync covers them

    def close(self) -> None:
        self._epoch = -1


class SimDisk:
    def __init__(self, rng: random.Random, *, capacity: int | None = None) -> None:
        self.rng = rng
        self.capacity = capacity
        self._names: dict[str, _Inode] = {}  # the namespace as the running process sees it
        self._durable_names: dict[str, _Inode] = {}  # the namespace a crash falls back to
        self._dirs: set[str] = {"/"}
        self._epoch = 0
        self._write_failure: int | None = None

    # -- the Disk interface ------------------------------------------------------------------------------
    def open(self, path: str, *, create: bool = False) -> SimFile:
        path = self._norm(path)
        inode = self._names.get(path)
        if inode is None:
            if not create:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
            if posixpath.dirname(path) not in self._dirs:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), posixpath.dirname(path))
            inode = self._names[path] = _Inode()
        elif create:
            inode.change(0)
        return SimFile(self, inode, path)

    def list_dir(self, path: str) -> list[str]:
        path = self._norm(path)
        if path not in self._dirs:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        names = {posixpath.basename(p) for p in self._names if posixpath.dirname(p) == path}
        names.update(posixpath.basename(d) for d in self._dirs if d != path and posixpath.dirname(d) == path)
        return sorted(names)

    def make_dirs(self, path: str) -> None:
        path = self._norm(path)
        while path not in self._dirs:
            self._dirs.add(path)
            path = posixpath.dirname(path)

    def rename(self, src: str, dst: str) -> None:
        src, dst = self._norm(src), self._norm(dst)
        if src not in self._names:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), src)
        self._names[dst] = self._names.pop(src)

    def remove(self, path: str) -> None:
        path = self._norm(path)
        if self._names.pop(path, None) is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)

    def sync_dir(self, path: str) -> None:
        path = self._norm(path)
        for name in [n for n in self._durable_names if posixpath.dirname(n) == path]:
            if name not in self._names:
                del self._durable_names[name]
        for name, inode in self._names.items():
            if posixpath.dirname(name) == path:
                self._durable_names[name] = inode

    # -- faults -------------------------------------------------------------------------------------------
    def crash(self, *, tear: bool = True) -> None:
        """Power loss: keep a random prefix of each file's unsynced changes, maybe tear the next one."""
        rng = self.rng
        for inode in self._inodes():
            kept = rng.randint(0, len(inode.unsynced))
            for change in inode.unsynced[:kept]:
                _apply(inode.durable, change)
            if tear and kept < len(inode.unsynced):
                torn = inode.unsynced[kept]
                if not isinstance(torn, int):  # a write tears (a prefix of it lands); a resize does not
                    offset, data = torn
                    kept_bytes = rng.randrange(len(data))
                    if kept_bytes:
                        _apply(inode.durable, (offset, data[:kept_bytes]))
            inode.unsynced.clear()
            inode.data = bytearray(inode.durable)
        self._names = dict(self._durable_names)
        self._epoch += 1  # handles opened before the crash belong to a dead process
        self._write_failure = None

    def flip_bit(self, path: str, offset: int, bit: int | None = None) -> int:
        """Flip one bit of the byte at ``offset``, in what reads see and in what is durable; returns the bit."""
        inode = self._names[self._norm(path)]
        bit = self.rng.randrange(8) if bit is None else bit
        inode.data[offset] ^= 1 << bit
        if offset < len(inode.durable):
            inode.durable[offset] ^= 1 << bit
        return bit

    def flip_random_bit(self, path: str) -> tuple[int, int]:
        """Flip a random bit anywhere in ``path``; returns (offset, bit)."""
        offset = self.rng.randrange(len(self._names[self._norm(path)].data))
        return offset, self.flip_bit(path, offset)

    def fail_next_write(self, keep: int = 0) -> None:
        """The next ``write_at`` writes only its first ``keep`` bytes, then fails with ``ENOSPC``."""
        self._write_failure = keep

    # -- inspection, for tests ----------------------------------------------------------------------------
    def read(self, path: str) -> bytes:
        return bytes(self._names[self._norm(path)].data)

    def exists(self, path: str) -> bool:
        return self._norm(path) in self._names

    # -- internals ----------------------------------------------------------------------------------------
    @staticmethod
    def _norm(path: str) -> str:
        return posixpath.normpath(posixpath.join("/", path))

    def _inodes(self) -> list[_Inode]:
        seen: dict[int, _Inode] = {}
        for inode in [*self._names.values(), *self._durable_names.values()]:
            seen.setdefault(id(inode), inode)
        return list(seen.values())

    def _room(self) -> float:
        if self.capacity is None:
            return float("inf")
        return self.capacity - sum(len(inode.data) for inode in set(self._names.values()))

    def _take_write_failure(self) -> int | None:
        failure, self._write_failure = self._write_failure, None
        return failure
