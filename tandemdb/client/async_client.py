"""``AsyncClient``: the Python API of a Tandem cluster, on asyncio.

Keys and values are ``str`` (encoded as UTF-8) or ``bytes``; results are the wire and KV structs. Reads are
linearizable unless ``serializable``. Writes carry an idempotency session, so a retried write applies once.

Every named method is one call of ``call``, which sends any operation of the registry (``tandemdb.wire.ops``):
the registry says whether it is a write (sent with a session) or not (resent as is); no method decides that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Self, TypeVar

from ..kv.commands import (
    Compact,
    Compare,
    DeleteRange,
    LeaseGrant,
    LeaseRevoke,
    Put,
    Range,
    RequestOp,
    Txn,
    prefix_end,
)
from ..kv.results import (
    CompactResult,
    DeleteRangeResult,
    ErrorResult,
    LeaseGrantResult,
    LeaseRevokeResult,
    PutResult,
    RangeResult,
    TxnResult,
)
from ..wire.client_api import (
    GroupCreate,
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
    MoveLeader,
    OkResult,
    Op,
    Reply,
    SnapshotResult,
    SnapshotSave,
    Status,
    StatusResult,
    WatchCreate,
)
from ..wire.ops import OPS, OpKind
from .cluster import Cluster
from .connection import parse_endpoint
from .errors import RequestTimeoutError, TandemError, from_result
from .sessions import SessionPool, random_id
from .watch import Watch

Data = str | bytes
R = TypeVar("R")


class AsyncClient:
    """``endpoints``: a list of "host:port" or one comma-separated string. ``timeout`` bounds each call, retries
    included; ``connect_timeout`` each connection attempt."""

    def __init__(self, endpoints: list[str] | str, *, timeout: float = 5.0, connect_timeout: float = 1.0) -> None:
        self._cluster = Cluster(_parse_endpoints(endpoints), timeout=timeout, connect_timeout=connect_timeout)
        self._sessions = SessionPool()

    @property
    def endpoints(self) -> list[str]:
        return list(self._cluster.endpoints)

    # KV.

    async def put(self, key: Data, value: Data, *, lease: int = 0, prev_kv: bool = False) -> PutResult:
        return await self.call(Put(_bytes(key), _bytes(value), lease=lease, prev_kv=prev_kv), PutResult)

    async def get(
        self,
        key: Data,
        range_end: Data = b"",
        *,
        prefix: bool = False,
        limit: int = 0,
        revision: int = 0,
        keys_only: bool = False,
        count_only: bool = False,
        serializable: bool = False,
    ) -> RangeResult:
        key, range_end = key_range(key, range_end, prefix)
        op = Range(key, range_end, revision=revision, limit=limit, keys_only=keys_only, count_only=count_only)
        return await self.call(op, RangeResult, serializable=serializable)

    async def delete(
        self, key: Data, range_end: Data = b"", *, prefix: bool = False, prev_kv: bool = False
    ) -> DeleteRangeResult:
        key, range_end = key_range(key, range_end, prefix)
        return await self.call(DeleteRange(key, range_end, prev_kv=prev_kv), DeleteRangeResult)

    async def txn(
        self, compares: Sequence[Compare], success: Sequence[RequestOp], failure: Sequence[RequestOp]
    ) -> TxnResult:
        """The structs take bytes keys and values (see ``tandemdb.kv.commands``)."""
        return await self.call(Txn(list(compares), list(success), list(failure)), TxnResult)

    async def compact(self, revision: int) -> CompactResult:
        return await self.call(Compact(revision), CompactResult)

    def watch(
        self, key: Data, range_end: Data = b"", *, prefix: bool = False, start_revision: int = 0, prev_kv: bool = False
    ) -> Watch:
        """Iterate with ``async for``; ``start_revision`` 0 means from the next change."""
        key, range_end = key_range(key, range_end, prefix)
        return Watch(self._cluster, WatchCreate(key, range_end, start_revision, prev_kv))

    # Leases.

    async def lease_grant(self, ttl_s: int, id: int = 0) -> LeaseGrantResult:
        """``id`` 0: a random one."""
        return await self.call(LeaseGrant(id or random_id(), ttl_s), LeaseGrantResult)

    async def lease_revoke(self, id: int) -> LeaseRevokeResult:
        return await self.call(LeaseRevoke(id), LeaseRevokeResult)

    async def lease_keepalive(self, id: int) -> LeaseTTLResult:
        return await self.call(LeaseKeepAlive(id), LeaseTTLResult)

    async def lease_ttl(self, id: int, keys: bool = False) -> LeaseTTLResult:
        return await self.call(LeaseTimeToLive(id, keys), LeaseTTLResult)

    async def lease_list(self) -> LeaseListResult:
        return await self.call(LeaseList(), LeaseListResult)

    # Membership and administration.

    async def member_list(self) -> MemberListResult:
        return await self.call(MemberList(), MemberListResult)

    async def member_add(
        self,
        peer: str,
        *,
        learner: bool = True,
        id: int = 0,
        client: str = "",
        http: str = "",
        region: str = "",
        zone: str = "",
    ) -> MemberResult:
        """``id`` 0: the next free id."""
        return await self.call(MemberAdd(Member(id, peer, client, http, region, zone), learner), MemberResult)

    async def member_remove(self, id: int) -> MemberResult:
        return await self.call(MemberRemove(id), MemberResult)

    async def member_promote(self, id: int) -> MemberResult:
        return await self.call(MemberPromote(id), MemberResult)

    async def status(self, endpoint: str | None = None) -> StatusResult:
        """The status of ``endpoint`` itself (no redirect), or of any endpoint that answers."""
        return await self.call(Status(), StatusResult, endpoint=endpoint)

    async def endpoints_status(self) -> list[tuple[str, StatusResult | TandemError]]:
        """The status of every endpoint, or why it gave none."""

        async def one(endpoint: str) -> tuple[str, StatusResult | TandemError]:
            try:
                return endpoint, await self.status(endpoint)
            except TandemError as e:
                return endpoint, e

        return list(await asyncio.gather(*(one(ep) for ep in self._cluster.endpoints)))

    async def health(self, endpoint: str) -> None:
        """Raise unless ``endpoint`` itself serves a linearizable read."""
        await self.call(Range(b"health"), RangeResult, endpoint=endpoint)

    async def group_create(self, group: int, members: list[int]) -> None:
        """Create Raft group ``group`` replicated by ``members`` on each of this client's endpoints (which must
        be those members' nodes). Low-level: normally the placement driver creates groups."""
        for endpoint in self._cluster.endpoints:
            await self.call(GroupCreate(group, members), OkResult, endpoint=endpoint)

    async def move_leader(self, target: int) -> OkResult:
        return await self.call(MoveLeader(target), OkResult)

    async def snapshot_save(self) -> SnapshotResult:
        return await self.call(SnapshotSave(), SnapshotResult)

    # Lifecycle.

    async def close(self) -> None:
        await self._cluster.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # Any operation.

    async def call(self, op: Op, expected: type[R], *, serializable: bool = False, endpoint: str | None = None) -> R:
        """Send ``op``, any operation of the registry but a stream, and return its reply, which must be an
        ``expected``; raises the ``KVError`` of an ``ErrorResult``. A write (``OpKind.WRITE``) carries a client
        session, the same ``(client_id, seq)`` for every retry, so it applies once however often it is sent; any
        other operation is resent as is. ``serializable``: a read may be served from a node's possibly stale
        state. ``endpoint``: one attempt at that endpoint itself, no redirect and no retry."""
        kind = OPS.spec(type(op)).kind
        if kind is OpKind.STREAM:
            raise TypeError(f"{type(op).__name__} opens a stream: use watch()")
        if kind is not OpKind.WRITE:
            return _result(await self._send(op, serializable, endpoint, (0, 0)), expected)
        session = self._sessions.acquire()
        try:
            reply = await self._send(op, serializable, endpoint, (session.client_id, session.next_seq()))
        except RequestTimeoutError:
            raise  # the write may still be applied: its session must never carry another one
        except TandemError:
            self._sessions.release(session)
            raise
        self._sessions.release(session)
        return _result(reply, expected)

    async def _send(self, op: Op, serializable: bool, endpoint: str | None, session: tuple[int, int]) -> Reply:
        if endpoint is None:
            return await self._cluster.call(op, serializable=serializable, session=session)
        return await self._cluster.call_at(endpoint, op, serializable=serializable, session=session)


def _result(reply: Reply, expected: type[R]) -> R:
    """``reply`` if it is the ``expected`` result; raises the ``KVError`` of an ``ErrorResult``."""
    if isinstance(reply, ErrorResult):
        raise from_result(reply)
    if not isinstance(reply, expected):
        raise TandemError(f"expected a {expected.__name__} in reply, got {type(reply).__name__}")
    return reply


def _bytes(data: Data) -> bytes:
    return data.encode() if isinstance(data, str) else bytes(data)


def key_range(key: Data, range_end: Data, prefix: bool) -> tuple[bytes, bytes]:
    """(key, range_end) as sent: ``prefix`` selects every key starting with ``key``."""
    key = _bytes(key)
    if not prefix:
        return key, _bytes(range_end)
    if not key:
        return b"\0", b"\0"  # the empty prefix: every key
    return key, prefix_end(key)


def _parse_endpoints(endpoints: list[str] | str) -> list[str]:
    items = endpoints.split(",") if isinstance(endpoints, str) else endpoints
    items = [e.strip() for e in items if e.strip()]
    if not items:
        raise ValueError("no endpoint given")
    for endpoint in items:
        parse_endpoint(endpoint)
    return items
