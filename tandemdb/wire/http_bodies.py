"""The JSON bodies of the HTTP API's operations: msgspec structs that decode a request body and ``build()`` the
operation of the client protocol it asks for. ``tandemdb.wire.ops`` names each operation's body; the server
(``tandemdb.server.http_json``) decodes them and renders the replies.

Unknown fields are refused, so a misspelled option fails loudly instead of being ignored. Bytes (keys, values,
range ends, compare values) travel as UTF-8 strings, or base64 when the body says ``"encoding": "base64"``:
``build`` gets the function that turns a string field into bytes by that rule.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal, get_args

import msgspec

from ..kv.commands import (
    RESULTS,
    TARGETS,
    Compact,
    Compare,
    DeleteRange,
    LeaseGrant,
    LeaseKeepAlive,
    LeaseRevoke,
    LeaseTimeToLive,
    Put,
    Range,
    RequestOp,
    Txn,
    prefix_end,
)
from ..kv.validate import MAX_ID
from .node_ops import Member, MemberAdd, MemberPromote, MemberRemove, MoveLeader, WatchCreate

UTF8: Final = "utf-8"
BASE64: Final = "base64"
Encoding = Literal["utf-8", "base64"]
# The compare targets and results of tandemdb.kv.commands, spelled out for the type checker and the decoder.
Target = Literal["value", "version", "create", "mod", "lease"]
CompareResult = Literal["==", "!=", "<", ">"]
assert get_args(Target) == TARGETS and get_args(CompareResult) == RESULTS
UInt = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
ToBytes = Callable[[str, str], bytes]  # (text, field name) -> bytes


class BadRequest(Exception):
    """The request is well-formed JSON of the right shape but asks for something impossible."""


class JsonBody(msgspec.Struct, forbid_unknown_fields=True):
    """The base of every body: ``build(to_bytes)`` returns the operation (or the part of one) it asks for."""

    def build(self, to_bytes: ToBytes) -> Any:
        raise NotImplementedError(f"{type(self).__name__} builds nothing")


class _KeyRange(JsonBody):
    """``prefix`` selects every key starting with ``key``; an empty ``key`` with ``prefix`` selects all keys."""

    key: str
    range_end: str = ""
    prefix: bool = False

    def span(self, to_bytes: ToBytes) -> tuple[bytes, bytes]:
        key = to_bytes(self.key, "key")
        if not self.prefix:
            return key, to_bytes(self.range_end, "range_end")
        if self.range_end:
            raise BadRequest("give either prefix or range_end, not both")
        return (key, prefix_end(key)) if key else (b"\0", b"\0")


class RangeFields(_KeyRange):
    limit: UInt = 0
    revision: UInt = 0
    keys_only: bool = False
    count_only: bool = False

    def build(self, to_bytes: ToBytes) -> Range:
        key, end = self.span(to_bytes)
        return Range(key, end, self.revision, self.limit, self.keys_only, self.count_only)


class PutFields(JsonBody):
    key: str
    value: str
    lease: UInt = 0
    prev_kv: bool = False

    def build(self, to_bytes: ToBytes) -> Put:
        return Put(to_bytes(self.key, "key"), to_bytes(self.value, "value"), self.lease, self.prev_kv)


class DeleteRangeFields(_KeyRange):
    prev_kv: bool = False

    def build(self, to_bytes: ToBytes) -> DeleteRange:
        key, end = self.span(to_bytes)
        return DeleteRange(key, end, self.prev_kv)


class CompareFields(_KeyRange, kw_only=True):
    """``value`` is a string for the "value" target and an integer for the others."""

    target: Target
    result: CompareResult
    value: str | int

    def build(self, to_bytes: ToBytes) -> Compare:
        key, end = self.span(to_bytes)
        value = to_bytes(self.value, "value") if isinstance(self.value, str) else self.value
        return Compare(key, self.target, self.result, value, end)


class TxnOpFields(JsonBody):
    put: PutFields | None = None
    range: RangeFields | None = None
    delete_range: DeleteRangeFields | None = None

    def build(self, to_bytes: ToBytes) -> RequestOp:
        given = [op for op in (self.put, self.range, self.delete_range) if op is not None]
        if len(given) != 1:
            raise BadRequest("each txn operation needs exactly one of put, range, delete_range")
        return given[0].build(to_bytes)


class RangeBody(RangeFields):
    serializable: bool = False
    encoding: Encoding = UTF8


class PutBody(PutFields):
    encoding: Encoding = UTF8


class DeleteRangeBody(DeleteRangeFields):
    encoding: Encoding = UTF8


class TxnBody(JsonBody):
    compares: list[CompareFields] = []
    success: list[TxnOpFields] = []
    failure: list[TxnOpFields] = []
    encoding: Encoding = UTF8

    def build(self, to_bytes: ToBytes) -> Txn:
        return Txn(
            [c.build(to_bytes) for c in self.compares],
            [op.build(to_bytes) for op in self.success],
            [op.build(to_bytes) for op in self.failure],
        )


class CompactBody(JsonBody):
    revision: UInt

    def build(self, to_bytes: ToBytes) -> Compact:
        return Compact(self.revision)


class LeaseGrantBody(JsonBody):
    """``id`` 0 (or none): a random one."""

    ttl_s: UInt
    id: UInt = 0

    def build(self, to_bytes: ToBytes) -> LeaseGrant:
        return LeaseGrant(self.id or secrets.randbelow(MAX_ID) + 1, self.ttl_s)


class LeaseRevokeBody(JsonBody):
    id: UInt

    def build(self, to_bytes: ToBytes) -> LeaseRevoke:
        return LeaseRevoke(self.id)


class LeaseKeepAliveBody(JsonBody):
    id: UInt

    def build(self, to_bytes: ToBytes) -> LeaseKeepAlive:
        return LeaseKeepAlive(self.id)


class LeaseTimeToLiveBody(JsonBody):
    id: UInt
    keys: bool = False
    encoding: Encoding = UTF8

    def build(self, to_bytes: ToBytes) -> LeaseTimeToLive:
        return LeaseTimeToLive(self.id, self.keys)


class WatchBody(_KeyRange):
    start_revision: UInt = 0
    prev_kv: bool = False
    encoding: Encoding = UTF8

    def build(self, to_bytes: ToBytes) -> WatchCreate:
        key, end = self.span(to_bytes)
        if not key:
            raise BadRequest("key is empty")
        return WatchCreate(key, end, self.start_revision, self.prev_kv)


class MemberAddBody(JsonBody):
    """``id`` 0 (or none): the next free id. A new member joins as a learner unless ``learner`` is false."""

    peer: str
    client: str = ""
    http: str = ""
    region: str = ""
    zone: str = ""
    id: UInt = 0
    learner: bool = True

    def build(self, to_bytes: ToBytes) -> MemberAdd:
        return MemberAdd(Member(self.id, self.peer, self.client, self.http, self.region, self.zone), self.learner)


class MemberRemoveBody(JsonBody):
    id: UInt

    def build(self, to_bytes: ToBytes) -> MemberRemove:
        return MemberRemove(self.id)


class MemberPromoteBody(JsonBody):
    id: UInt

    def build(self, to_bytes: ToBytes) -> MemberPromote:
        return MemberPromote(self.id)


class MoveLeaderBody(JsonBody):
    target: UInt

    def build(self, to_bytes: ToBytes) -> MoveLeader:
        return MoveLeader(self.target)
