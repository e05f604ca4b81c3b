"""Group commit: one dedicated thread writes and syncs the write-ahead log for the whole node.

Callers (the server's asyncio loop) ``submit`` one ``WriteBatch`` per loop turn, holding the records of many
groups, with a callback. The thread takes everything submitted since its last sync, writes it with one write,
issues one fdatasync for all of it, and only then calls each batch's callback, in submission order, from the
thread: ``on_done(None)`` once durable, ``on_done(error)`` if the write or sync failed. The server passes a
callback that hops back with ``loop.call_soon_threadsafe``.

While the thread is in fdatasync (which releases the GIL) new batches queue up, so under load each sync
carries everything that arrived during the previous one. After a failure every later batch fails too (the log
refuses batches that do not continue it), until the storage is reopened.

Latency note: the thread needs the GIL to call back after fdatasync returns; a busy event loop holds it for up
to ``sys.getswitchinterval()`` (5 ms by default), so a server under load should lower that interval.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from ..errors import StorageError
from ..record import WriteBatch
from ..wal import WAL

OnDone = Callable[[BaseException | None], object]  # its result is ignored (a loop.call_soon_threadsafe handle, say)
OnSync = Callable[[float, int, int], None]  # (fsync seconds, records, bytes) of one commit round

_log = logging.getLogger(__name__)
_STOP = None


class GroupCommitter:
    def __init__(self, wal: WAL, *, name: str = "tandem-wal-commit") -> None:
        self._wal = wal
        self._queue: queue.SimpleQueue[tuple[WriteBatch, OnDone] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._closed = False
        self.syncs = 0  # commit rounds so far: one write and one fdatasync each
        self.on_sync: OnSync | None = None  # metrics: called on the commit thread after each sync

    def start(self) -> GroupCommitter:
        self._thread.start()
        return self

    def submit(self, batch: WriteBatch, on_done: OnDone) -> None:
        """Queue ``batch``; ``on_done`` runs on the commit thread once it is durable (or failed)."""
        if self._closed:
            raise StorageError("the group committer is closed")
        self._queue.put((batch, on_done))

    def close(self) -> None:
        """Commit what was submitted, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

    def __enter__(self) -> GroupCommitter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            items = [get()]
            try:
                while True:
                    items.append(get_nowait())
            except queue.Empty:
                pass
            stopping = _STOP in items
            work = [item for item in items if item is not _STOP]
            if work:
                self._commit(work)
            if stopping:
                return

    def _commit(self, work: list[tuple[WriteBatch, OnDone]]) -> None:
        error: BaseException | None = None
        try:
            self._wal.write([batch for batch, _ in work])
            started = time.perf_counter()
            self._wal.sync()
            synced = time.perf_counter() - started
            self.syncs += 1
        except Exception as e:
            error = e
        else:
            if self.on_sync is not None:
                self.on_sync(synced, sum(b.count for b, _ in work), sum(len(b.buf) for b, _ in work))
        for _, on_done in work:
            try:
                on_done(error)
            except Exception:  # a broken callback must not stop the node's log
                _log.exception("group commit callback failed")
