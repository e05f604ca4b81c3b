"""The endpoints of one cluster: lazy connections, the endpoint to talk to next, and the retry loop.

A request goes to the last endpoint that served one (the leader, usually). ``NOT_LEADER`` with an endpoint
moves there, even if it is not in the list; no answer, ``NO_LEADER``, ``UNAVAILABLE``, ``TIMEOUT`` or
``STORAGE`` move to the next endpoint of the list after a backoff, until the client's timeout runs out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..wire.client_api import Error, ErrorKind, Op, Reply
from .connection import CLOSED, Connection, HelloRejected, NoAnswer, Stream
from .errors import (
    ClusterUnavailableError,
    RequestTimeoutError,
    TandemError,
    from_reply,
)

T = TypeVar("T")
Attempt = Callable[[Connection, int], Awaitable[T | Error]]

BACKOFF_MIN_S = 0.05
BACKOFF_MAX_S = 0.25  # short: after a failover, a sleeping client would add its backoff to the outage
RETRY_ELSEWHERE = {
    ErrorKind.NOT_LEADER,
    ErrorKind.NO_LEADER,
    ErrorKind.UNAVAILABLE,
    ErrorKind.TIMEOUT,
    ErrorKind.STORAGE,
}


class Cluster:
    def __init__(self, endpoints: list[str], *, timeout: float, connect_timeout: float) -> None:
        self.endpoints = endpoints
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.closed = False
        self._target = endpoints[0]  # where the next request goes
        self._next = 1  # index in ``endpoints`` of the one to try after a failure
        self._conns: dict[str, asyncio.Task[Connection]] = {}

    async def call(self, op: Op, *, serializable: bool = False, session: tuple[int, int] = (0, 0)) -> Reply:
        """Send ``op`` until a node answers it. Returns the reply (never a retryable ``Error``); raises
        ``ClusterUnavailableError`` or ``RequestTimeoutError`` when time is up, ``TandemError`` for other errors.
        ``session``: a write's ``(client_id, seq)``, the same for every attempt."""

        async def attempt(conn: Connection, timeout_ms: int) -> Reply:
            return await conn.request(op, serializable=serializable, timeout_ms=timeout_ms, session=session)

        return await self._retry(attempt)

    async def open_stream(self, op: Op) -> tuple[Stream, Reply]:
        """Open a streaming request where a node accepts it; returns the stream and its first response."""

        async def attempt(conn: Connection, timeout_ms: int) -> tuple[Stream, Reply] | Error:
            stream = await conn.open_stream(op, timeout_ms=timeout_ms)
            try:
                first = await stream.next()
            except BaseException:
                stream.close()
                raise
            assert first is not CLOSED  # only this side closes a stream, and it has not got it yet
            return first if isinstance(first, Error) else (stream, first)

        return await self._retry(attempt)

    async def call_at(
        self, endpoint: str, op: Op, *, serializable: bool = False, session: tuple[int, int] = (0, 0)
    ) -> Reply:
        """One attempt at ``endpoint``: no redirect, no retry."""
        self._check_open()
        failures = _Failures()
        deadline = asyncio.get_running_loop().time() + self.timeout

        async def attempt(conn: Connection, timeout_ms: int) -> Reply:
            return await conn.request(op, serializable=serializable, timeout_ms=timeout_ms, session=session)

        reply: Reply | None = await self._try_once(endpoint, attempt, deadline, failures)
        if reply is None:
            raise failures.give_up()
        if isinstance(reply, Error):
            raise from_reply(reply, endpoint)
        return reply

    async def close(self) -> None:
        self.closed = True
        tasks = list(self._conns.values())
        self._conns.clear()
        for task in tasks:
            if not task.done():
                task.cancel()
            elif not task.cancelled() and task.exception() is None:
                await task.result().close()

    async def _retry(self, attempt: Attempt[T]) -> T:
        self._check_open()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        failures = _Failures()
        backoff = BACKOFF_MIN_S
        endpoint = self._target
        redirected = False  # the last attempt was redirected: a second redirect in a row waits first
        while loop.time() < deadline:
            reply = await self._try_once(endpoint, attempt, deadline, failures)
            if reply is not None and not isinstance(reply, Error):
                self._target = endpoint
                return reply
            if isinstance(reply, Error) and reply.kind not in RETRY_ELSEWHERE:
                raise from_reply(reply, endpoint)
            leader = reply.leader_endpoint if isinstance(reply, Error) else ""
            if leader and leader != endpoint:
                failures.add(endpoint, f"not the leader, redirected to {leader}", sent=False)
                endpoint = self._target = leader
                if not redirected:
                    redirected = True
                    continue
            else:
                if isinstance(reply, Error):
                    failures.add(endpoint, reply.message, sent=reply.kind == ErrorKind.TIMEOUT)
                endpoint = self._rotate(endpoint)
            redirected = False
            await asyncio.sleep(min(backoff, max(0.0, deadline - loop.time())))
            backoff = min(2 * backoff, BACKOFF_MAX_S)
        raise failures.give_up()

    async def _try_once(
        self, endpoint: str, attempt: Attempt[T], deadline: float, failures: _Failures
    ) -> T | Error | None:
        """The reply, or None after a failure without answer (recorded in ``failures``)."""
        remaining = deadline - asyncio.get_running_loop().time()
        conn = None
        try:
            async with asyncio.timeout(remaining):
                conn = await self._connection(endpoint)
                # The node gets less time than we wait, so that its TIMEOUT answer still reaches us.
                return await attempt(conn, max(1, int(remaining * 900)))
        except HelloRejected as e:
            return e.error
        except NoAnswer as e:
            failures.add(endpoint, e.reason, sent=e.sent)
        except TimeoutError:
            failures.add(endpoint, "no answer in time", sent=conn is not None)
        return None

    async def _connection(self, endpoint: str) -> Connection:
        self._check_open()
        task = self._conns.get(endpoint)
        if task is None or _unusable(task):
            task = asyncio.create_task(Connection.open(endpoint, self.connect_timeout))
            # Waiters may all give up before it ends: mark its exception retrieved so none is logged.
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self._conns[endpoint] = task
        return await asyncio.shield(task)  # one waiter's timeout must not cancel the others' connect

    def _rotate(self, failed: str) -> str:
        """The endpoint of the list after ``failed``, or the next in turn if ``failed`` is not in the list."""
        i = self.endpoints.index(failed) + 1 if failed in self.endpoints else self._next
        i %= len(self.endpoints)
        self._target, self._next = self.endpoints[i], i + 1
        return self._target

    def _check_open(self) -> None:
        if self.closed:
            raise TandemError("the client is closed")


def _unusable(task: asyncio.Task[Connection]) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None or task.result().closed)


class _Failures:
    """Why each endpoint tried gave no answer, and whether a request may have reached a node."""

    def __init__(self) -> None:
        self.reasons: dict[str, str] = {}
        self.outcome_unknown = False

    def add(self, endpoint: str, reason: str, *, sent: bool) -> None:
        self.reasons[endpoint] = reason
        self.outcome_unknown |= sent

    def give_up(self) -> TandemError:
        tried = "; ".join(f"{ep}: {why}" for ep, why in self.reasons.items()) or "no endpoint tried"
        if self.outcome_unknown:
            return RequestTimeoutError(f"request timed out, its outcome is unknown ({tried})")
        return ClusterUnavailableError(f"no endpoint could serve the request ({tried})")
