"""``Client``: the blocking API. Each call runs the ``AsyncClient`` method of the same name on an event loop
in a daemon thread; ``watch`` returns a blocking iterator."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from ..wire.client_api import WatchEvents
from .async_client import AsyncClient, Data
from .watch import Watch

P = ParamSpec("P")
R = TypeVar("R")


def _blocking(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Client, P], R]:
    """``method`` of ``AsyncClient`` as a blocking method of ``Client``, with the same arguments."""

    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._run(method(self._async, *args, **kwargs))

    functools.update_wrapper(call, method)  # in place: its result's type would hide the signature
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

    call = _blocking(AsyncClient.call)
    put = _blocking(AsyncClient.put)
    get = _blocking(AsyncClient.get)
    delete = _blocking(AsyncClient.delete)
    txn = _blocking(AsyncClient.txn)
    compact = _blocking(AsyncClient.compact)
    lease_grant = _blocking(AsyncClient.lease_grant)
    lease_revoke = _blocking(AsyncClient.lease_revoke)
    lease_keepalive = _blocking(AsyncClient.lease_keepalive)
    lease_ttl = _blocking(AsyncClient.lease_ttl)
    lease_list = _blocking(AsyncClient.lease_list)
    member_list = _blocking(AsyncClient.member_list)
    member_add = _blocking(AsyncClient.member_add)
    member_remove = _blocking(AsyncClient.member_remove)
    member_promote = _blocking(AsyncClient.member_promote)
    status = _blocking(AsyncClient.status)
    endpoints_status = _blocking(AsyncClient.endpoints_status)
    health = _blocking(AsyncClient.health)
    move_leader = _blocking(AsyncClient.move_leader)
    snapshot_save = _blocking(AsyncClient.snapshot_save)

    def watch(
        self, key: Data, range_end: Data = b"", *, prefix: bool = False, start_revision: int = 0, prev_kv: bool = False
    ) -> SyncWatch:
        watch = self._async.watch(key, range_end, prefix=prefix, start_revision=start_revision, prev_kv=prev_kv)
        return SyncWatch(self, watch)

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

    def _run(self, coro: Coroutine[Any, Any, R]) -> R:
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
