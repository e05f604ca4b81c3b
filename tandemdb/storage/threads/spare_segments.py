"""The next log segment, zero-filled ahead of time on a background thread.

Segments are zero-filled when created (``create_zeroed_file`` says why): about 40 ms of disk time for 16 MiB,
far too long to spend on the commit thread between two commits. So once the current segment is half full, the
WAL asks this thread for a spare: a zeroed, synced file under a temporary name (``spare-<n>.tmp``). When the WAL
rotates it takes the spare, writes the segment header into it and renames it; with no spare ready (the
simulator runs without this thread, or a log that outruns it) it zero-fills the segment itself.

A spare left behind by a crash or a stop is a ``.tmp`` file, which recovery deletes. If preparing a spare fails
(a full disk, say) the error is logged and no spare is tried again before the next rotation, which then meets
the failure itself, as an error to the writes that need the new segment.
"""

from __future__ import annotations

import logging
import posixpath
import threading

from ..disk import File
from ..segment import create_zeroed_file
from ..wal import WAL

_log = logging.getLogger(__name__)


class SpareSegments:
    def __init__(self, wal: WAL, *, name: str = "tandem-wal-spare") -> None:
        self._wal = wal
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._ready: tuple[File, str] | None = None  # guarded by _lock
        self._busy = False  # a spare is requested or being made; guarded by _lock
        self._failed = False  # the last attempt failed: wait for a rotation before trying again
        self._made = 0
        self._closed = False
        self.requested = 0  # spares asked for so far
        self.prepared = 0  # spares made so far

    def start(self) -> SpareSegments:
        self._thread.start()
        self._wal.spares = self
        return self

    def request(self) -> None:
        """Start making a spare unless one is ready or on its way; called by the WAL's thread."""
        with self._lock:
            if self._ready is not None or self._busy or self._failed or self._closed:
                return
            self._busy = True
            self.requested += 1
        self._wanted.set()

    def take(self, size: int) -> tuple[File, str] | None:
        """The ready spare as (open file, temporary path), if there is one of at least ``size`` bytes."""
        with self._lock:
            ready, self._ready = self._ready, None
            self._failed = False
        if ready is not None and ready[0].size() < size:  # a batch larger than a segment: this spare is too small
            self._discard(ready)
            return None
        return ready

    def close(self) -> None:
        """Stop the thread (after the spare it is making, if any) and delete an unused spare."""
        if self._closed:
            return
        self._wal.spares = None
        with self._lock:
            self._closed = True
        self._wanted.set()
        self._thread.join()
        if self._ready is not None:
            self._discard(self._ready)
            self._ready = None

    def __enter__(self) -> SpareSegments:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        wal = self._wal
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._closed:
                return
            self._made += 1
            path = posixpath.join(wal.directory, f"spare-{self._made}.tmp")
            try:
                spare: tuple[File, str] | None = (create_zeroed_file(wal.disk, path, wal.segment_size), path)
            except OSError as e:
                _log.warning("could not prepare the next log segment %s ahead of time: %s", path, e)
                spare = None
            with self._lock:
                self._ready, self._busy, self._failed = spare, False, spare is None
            if spare is not None:
                self.prepared += 1

    def _discard(self, spare: tuple[File, str]) -> None:
        f, path = spare
        f.close()
        try:
            self._wal.disk.remove(path)
        except OSError as e:  # a leftover .tmp file goes at the next recovery anyway
            _log.warning("could not delete the unused log segment %s: %s", path, e)
