"""A watch that survives node failures: when its stream breaks it is opened again, on whichever node
answers, from the revision after the last one delivered. Events at or below that revision are dropped, so
the caller sees every revision once, in order."""

from __future__ import annotations

import msgspec

from ..wire.client_api import Error, Reply, WatchCreate, WatchEvents
from .cluster import RETRY_ELSEWHERE, Cluster
from .connection import CLOSED, Closed, NoAnswer, Stream
from .errors import TandemError, from_reply


class Watch:
    """Async iterator of ``WatchEvents``: the first has ``created``; iteration ends after a ``canceled`` one
    (e.g. the start revision was compacted) or once ``cancel`` was called."""

    def __init__(self, cluster: Cluster, op: WatchCreate) -> None:
        self._cluster = cluster
        self._op = op
        self._next_revision = op.start_revision  # 0: unknown until the first response
        self._stream: Stream | None = None
        self._watch_id = 0  # the id of the first stream, kept across resumptions
        self._created = False
        self._done = False

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchEvents:
        while not self._done and not self._cluster.closed:
            stream = self._stream
            batch = await self._next_response()
            if batch is None:
                continue  # the stream broke: resume it
            if batch is CLOSED:
                break
            if isinstance(batch, Error):
                assert stream is not None  # only an open stream sends errors (opening one raises them)
                self._stream = None
                if batch.kind in RETRY_ELSEWHERE:
                    continue
                self._done = True
                raise from_reply(batch, stream.conn.endpoint)
            if not isinstance(batch, WatchEvents):
                self._done = True
                raise TandemError(f"expected WatchEvents on a watch stream, got {type(batch).__name__}")
            out = self._accept(batch)
            if out is not None:
                return out
        self._done = True
        raise StopAsyncIteration

    async def cancel(self) -> None:
        """Stop the watch; iteration ends."""
        self._done = True
        if self._stream is not None:
            stream, self._stream = self._stream, None
            try:
                await stream.cancel()
            except NoAnswer:
                pass  # the connection is gone, and the watch with it

    async def _next_response(self) -> Reply | Closed | None:
        """The stream's next response (opening it first if needed); None if the stream broke."""
        if self._stream is None:
            op = msgspec.structs.replace(self._op, start_revision=self._next_revision)
            try:
                self._stream, first = await self._cluster.open_stream(op)
            except TandemError:
                self._done = True
                raise
            self._watch_id = self._watch_id or self._stream.id
            if self._done:  # canceled while it was being opened
                await self.cancel()
                return CLOSED
            return first
        try:
            return await self._stream.next()
        except NoAnswer:
            self._stream = None
            return None

    def _accept(self, batch: WatchEvents) -> WatchEvents | None:
        """The part of ``batch`` to deliver, or None if nothing is new."""
        first = batch.created and not self._created
        if batch.created and not self._next_revision:
            self._next_revision = batch.revision + 1  # "from the next change": after the revision at creation
        events = [e for e in batch.events if e.kv.mod_revision >= self._next_revision]
        if events:
            self._next_revision = events[-1].kv.mod_revision + 1
        if batch.canceled:
            self._done = True
        elif not (events or first):
            return None  # a resumed stream's creation, or events already delivered
        self._created = True
        return msgspec.structs.replace(batch, watch_id=self._watch_id, events=events, created=first)
