"""In-process access to the node for the HTTP API: the same requests as the native port, as coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable

from ..wire.client_api import Error, Op, Reply, Request, WatchCancel, WatchCreate, WatchEvents


class Gateway:
    """Each call is a request on a private connection id (negative, so it never meets a socket's)."""

    def __init__(self, submit: Callable[[int, Request], None]) -> None:
        self._submit = submit
        self._next = 0
        self._calls: dict[int, asyncio.Future[Reply]] = {}
        self._watches: dict[int, asyncio.Queue[WatchEvents]] = {}

    def _conn(self) -> int:
        self._next -= 1
        return self._next

    async def call(self, op: Op, *, serializable: bool = False, group: int = 0, timeout_ms: int = 0) -> Reply:
        conn = self._conn()
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._calls[conn] = fut
        try:
            self._submit(conn, Request(1, op, serializable, group, timeout_ms))
            return await fut
        finally:
            self._calls.pop(conn, None)

    async def watch(self, op: WatchCreate, *, group: int = 0) -> AsyncGenerator[WatchEvents, None]:
        conn = self._conn()
        queue: asyncio.Queue[WatchEvents] = asyncio.Queue()
        self._watches[conn] = queue
        self._submit(conn, Request(1, op, group=group))
        try:
            while True:
                events = await queue.get()
                yield events
                if events.canceled:
                    return
        finally:
            self._watches.pop(conn, None)
            self._submit(conn, Request(2, WatchCancel(1), group=group))

    def owns(self, conn: int) -> bool:
        return conn < 0

    def deliver(self, conn: int, reply: Reply) -> None:
        fut = self._calls.get(conn)
        if fut is not None:
            if not fut.done():
                fut.set_result(reply)
            return
        queue = self._watches.get(conn)
        if queue is None:
            return
        if isinstance(reply, WatchEvents):
            queue.put_nowait(reply)
        elif isinstance(reply, Error):  # the node refused the watch: end it with the reason
            queue.put_nowait(WatchEvents(1, 0, canceled=True, reason=reply.message))
