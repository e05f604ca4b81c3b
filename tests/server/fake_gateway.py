"""For the HTTP API tests: an in-memory ``Gateway`` (one node, a real ``KVStore``, canned membership) and
``Served``, the API over it on a local port, driven synchronously from a test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web

from tandemdb.kv import ErrorResult, Event, KVStore, Range
from tandemdb.kv.index import in_span
from tandemdb.server.http_api import make_app
from tandemdb.wire.client_api import (
    Error,
    ErrorKind,
    LeaseKeepAlive,
    LeaseList,
    LeaseListResult,
    LeaseTimeToLive,
    LeaseTTLResult,
    Member,
    MemberAdd,
    MemberList,
    MemberListResult,
    MemberPromote,
    MemberRemove,
    MemberResult,
    MemberStatus,
    MoveLeader,
    OkResult,
    Op,
    Reply,
    SnapshotResult,
    SnapshotSave,
    Status,
    StatusResult,
    WatchCreate,
    WatchEvents,
)


class FakeGateway:
    def __init__(self) -> None:
        self.store = KVStore()
        self.members = {1: MemberStatus(Member(1, "n1:7001", "n1:7002", "http://n1:7080"), False)}
        self.calls: list[tuple[Op, dict]] = []
        self.replies: list[Reply] = []  # canned replies, returned (first in, first out) before anything else
        self.open_watches = 0
        self._watchers: list[asyncio.Queue[list[Event]]] = []
        self._next_watch_id = 1

    async def call(self, op: Op, *, serializable: bool = False, group: int = 0, timeout_ms: int = 0) -> Reply:
        self.calls.append((op, {"serializable": serializable, "group": group, "timeout_ms": timeout_ms}))
        if self.replies:
            return self.replies.pop(0)
        if isinstance(op, Range):
            return self.store.range(op)
        handler = getattr(self, f"_{type(op).__name__}", None)
        if handler is not None:
            return handler(op)
        results, events = self.store.apply([op])
        if events:
            for queue in self._watchers:
                queue.put_nowait(events)
        return results[0]

    async def watch(self, op: WatchCreate, *, group: int = 0) -> AsyncIterator[WatchEvents]:
        watch_id, self._next_watch_id = self._next_watch_id, self._next_watch_id + 1
        queue: asyncio.Queue[list[Event]] = asyncio.Queue()
        self._watchers.append(queue)
        self.open_watches += 1
        try:
            if op.start_revision:
                past = self.store.events(op.start_revision, op.key, op.range_end, prev_kv=op.prev_kv)
                if isinstance(past, ErrorResult):
                    yield WatchEvents(
                        watch_id,
                        self.store.revision,
                        created=True,
                        canceled=True,
                        compact_revision=past.compact_revision,
                        reason=past.message,
                    )
                    return
                queue.put_nowait(past)
            yield WatchEvents(watch_id, self.store.revision, created=True)
            while True:
                events = [e if op.prev_kv else Event(e.type, e.kv) for e in await queue.get()]
                if events := [e for e in events if in_span(e.kv.key, op.key, op.range_end)]:
                    yield WatchEvents(watch_id, events[-1].kv.mod_revision, events)
        finally:
            self._watchers.remove(queue)
            self.open_watches -= 1

    # Operations beyond the KV commands.

    def _lease_ttl(self, lease_id: int, keys: bool) -> Reply:
        info = self.store.lease(lease_id)
        if info is None:
            return Error(ErrorKind.NOT_FOUND, f"lease {lease_id} not found (expired or revoked)")
        return LeaseTTLResult(lease_id, info.ttl_s, info.ttl_s, info.keys if keys else [])

    def _LeaseKeepAlive(self, op: LeaseKeepAlive) -> Reply:
        return self._lease_ttl(op.id, False)

    def _LeaseTimeToLive(self, op: LeaseTimeToLive) -> Reply:
        return self._lease_ttl(op.id, op.keys)

    def _LeaseList(self, op: LeaseList) -> Reply:
        return LeaseListResult([info.id for info in self.store.leases()])

    def _MemberList(self, op: MemberList) -> Reply:
        return MemberListResult(list(self.members.values()))

    def _MemberAdd(self, op: MemberAdd) -> Reply:
        member = op.member
        if not member.id:
            next_id = max(self.members, default=0) + 1  # the fuzz may have removed every member
            member = Member(next_id, member.peer, member.client, member.http, member.region, member.zone)
        self.members[member.id] = MemberStatus(member, op.learner)
        return MemberResult(member, list(self.members.values()))

    def _MemberRemove(self, op: MemberRemove) -> Reply:
        status = self.members.pop(op.id, None)
        if status is None:
            return Error(ErrorKind.NOT_FOUND, f"member {op.id} not found")
        return MemberResult(status.member, list(self.members.values()))

    def _MemberPromote(self, op: MemberPromote) -> Reply:
        if op.id not in self.members:
            return Error(ErrorKind.NOT_FOUND, f"member {op.id} not found")
        status = self.members[op.id] = MemberStatus(self.members[op.id].member, False)
        return MemberResult(status.member, list(self.members.values()))

    def _MoveLeader(self, op: MoveLeader) -> Reply:
        return OkResult() if op.target in self.members else Error(ErrorKind.NOT_FOUND, f"member {op.target} not found")

    def _Status(self, op: Status) -> Reply:
        stats = self.store.stats()
        return StatusResult(
            1,
            self.members[1].member,
            1,
            1,
            True,
            False,
            2,
            9,
            9,
            stats.revision,
            stats.keys,
            stats.approx_bytes,
            "test",
        )

    def _SnapshotSave(self, op: SnapshotSave) -> Reply:
        return SnapshotResult(9, self.store.revision, self.store.snapshot())


class Answer(NamedTuple):
    status: int
    headers: Any
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Served:
    """The app on a real ``AppRunner``: aiohttp's ``TestServer`` would cancel handlers when a client leaves,
    which the production server does not do, and the watch must cope without it."""

    def __init__(self, **app_options: Any) -> None:
        self.gateway = FakeGateway()
        self.loop = asyncio.new_event_loop()
        self.run(self._start(make_app(self.gateway, **app_options)))

    async def _start(self, app: web.Application) -> None:
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.session = aiohttp.ClientSession(f"http://{host}:{port}")

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def request(self, method: str, path: str, body: Any = None, **options: Any) -> Answer:
        """``body``: bytes as they are, anything else as JSON."""
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        return self.run(self._request(method, path, data, options))

    async def _request(self, method: str, path: str, data: bytes | None, options: dict) -> Answer:
        async with self.session.request(method, path, data=data, **options) as r:
            streaming = r.content_type == "application/x-ndjson"  # a watch: its stream does not end, leave it
            return Answer(r.status, r.headers, b"" if streaming else await r.read())

    def post(self, path: str, body: Any = None, **options: Any) -> Answer:
        return self.request("POST", path, body, **options)

    def get(self, path: str, **options: Any) -> Answer:
        return self.request("GET", path, **options)

    def close(self) -> None:
        self.run(self.session.close())
        self.run(self.runner.cleanup())
        self.loop.close()
