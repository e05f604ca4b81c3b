"""``Client``: the blocking API. Each call runs the ``AsyncClient`` method of the same name on an event loop
in a daemon thread; ``watch`` returns a blocking iterator."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Self

from ..wire.client_api import WatchEvents
from .async_client import AsyncClient
from .watch import Watch


def _blocking(name: str):
    method = getattr(AsyncClient, name)

    @functools.wraps(method)
    def call(self: Client, *args, **kwargs):
        return self._run(method(self._async, *args, **kwargs))

    return call


class Client:
    """See ``AsyncClient`` for the arguments and methods."""

    def __init__(self, endpoints: list[str] | str, *, timeout: float = 5.0, connect_timeout: float = 1.0) -> None:
        self._async = AsyncClient(endpoints, timeout=timeout, connect_timeout=connect_timeout)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tandem-client", daemon=True)
        self._thread.start()

    @property
    def endpoints(self) -> list[str]:
        return self._async.endpoints

    put = _blocking("put")
    get = _blocking("get")
    delete = _blocking("delete")
    txn = _blocking("txn")
    compact = _blocking("compact")
    lease_grant = _blocking("lease_grant")
    lease_revoke = _blocking("lease_revoke")
    lease_keepalive = _blocking("lease_keepalive")
    lease_ttl = _blocking("lease_ttl")
    lease_list = _blocking("lease_list")
    member_list = _blocking("member_list")
    member_add = _blocking("member_add")
    member_remove = _blocking("member_remove")
    member_promote = _blocking("member_promote")
    status = _blocking("status")
    endpoints_status = _blocking("endpoints_status")
    health = _blocking("health")
    move_leader = _blocking("move_leader")
    snapshot_save = _blocking("snapshot_save")

    def watch(self, *args, **kwargs) -> SyncWatch:
        return SyncWatch(self, self._async.watch(*args, **kwargs))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._async.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coro):
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise


class SyncWatch:
    """Blocking iterator of ``WatchEvents``; see ``tandemdb.client.watch.Watch``."""

    def __init__(self, client: Client, watch: Watch) -> None:
        self._client = client
        self._watch = watch

    def __iter__(self) -> SyncWatch:
        return self

    def __next__(self) -> WatchEvents:
        batch = self._client._run(_next_or_none(self._watch))
        if batch is None:
            raise StopIteration
        return batch

    def cancel(self) -> None:
        self._client._run(self._watch.cancel())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


async def _next_or_none(watch: Watch) -> WatchEvents | None:
    return await anext(watch, None)
