"""JSON <-> protocol structs for the HTTP API.

Requests are decoded with msgspec into the body structs below (unknown fields are refused, so a misspelled
option fails loudly instead of being ignored), then turned into the operations of ``tandemdb.wire.client_api``.
Bytes (keys, values, range ends, compare values) travel as UTF-8 strings, or base64 when the request says
``"encoding": "base64"``. A response is base64 too if its request was, or if some of its bytes are not UTF-8;
it then says ``"encoding": "base64"``.
"""

from __future__ import annotations

import functools
import secrets
from base64 import b64decode, b64encode
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal, NamedTuple, TypedDict, get_args

import msgspec

from ..kv.commands import (
    RESULTS,
    TARGETS,
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
from ..kv.results import EventType, TxnResult
from ..kv.validate import MAX_ID
from ..wire.client_api import (
    LeaseKeepAlive,
    LeaseTimeToLive,
    Member,
    MemberAdd,
    MemberPromote,
    MemberRemove,
    MoveLeader,
    Op,
    WatchCreate,
)

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


# -- request bodies ------------------------------------------------------------------------------------------------


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    pass


class _KeyRange(_Body):
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


class PutFields(_Body):
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


class TxnOpFields(_Body):
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


class TxnBody(_Body):
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


class CompactBody(_Body):
    revision: UInt

    def build(self, to_bytes: ToBytes) -> Compact:
        return Compact(self.revision)


class LeaseGrantBody(_Body):
    """``id`` 0 (or none): a random one."""

    ttl_s: UInt
    id: UInt = 0

    def build(self, to_bytes: ToBytes) -> LeaseGrant:
        return LeaseGrant(self.id or secrets.randbelow(MAX_ID) + 1, self.ttl_s)


class LeaseRevokeBody(_Body):
    id: UInt

    def build(self, to_bytes: ToBytes) -> LeaseRevoke:
        return LeaseRevoke(self.id)


class LeaseKeepAliveBody(_Body):
    id: UInt

    def build(self, to_bytes: ToBytes) -> LeaseKeepAlive:
        return LeaseKeepAlive(self.id)


class LeaseTimeToLiveBody(_Body):
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


class MemberAddBody(_Body):
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


class MemberRemoveBody(_Body):
    id: UInt

    def build(self, to_bytes: ToBytes) -> MemberRemove:
        return MemberRemove(self.id)


class MemberPromoteBody(_Body):
    id: UInt

    def build(self, to_bytes: ToBytes) -> MemberPromote:
        return MemberPromote(self.id)


class MoveLeaderBody(_Body):
    target: UInt

    def build(self, to_bytes: ToBytes) -> MoveLeader:
        return MoveLeader(self.target)


class CallOptions(_Body):
    """Query parameters every route takes: the Raft group (0: route by key) and a timeout (0: the node's)."""

    group: UInt = 0
    timeout_ms: UInt = 0


class Parsed(NamedTuple):
    op: Op
    encoding: str
    serializable: bool


def parse(body_type: type[_Body], data: bytes) -> Parsed:
    """Decode a request body (empty: ``{}``) into its operation; raises ``msgspec.ValidationError``,
    ``msgspec.DecodeError`` or ``BadRequest``."""
    body = _decoder(body_type).decode(data or b"{}")
    encoding = getattr(body, "encoding", UTF8)
    op = body.build(_from_base64 if encoding == BASE64 else _from_utf8)
    return Parsed(op, encoding, getattr(body, "serializable", False))


@functools.cache
def _decoder(body_type: type[_Body]) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(body_type)


class CallOptionsArgs(TypedDict):
    """``CallOptions`` as the keyword arguments of ``Gateway.call``."""

    group: int
    timeout_ms: int


def call_options(query: dict[str, str]) -> CallOptionsArgs:
    options = msgspec.convert(query, CallOptions, strict=False)
    return {"group": options.group, "timeout_ms": options.timeout_ms}


def _from_utf8(text: str, field: str) -> bytes:
    return text.encode()  # msgspec refuses JSON strings that are not valid Unicode


def _from_base64(text: str, field: str) -> bytes:
    try:
        return b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise BadRequest(f"`{field}` is not valid base64") from None


# -- replies -------------------------------------------------------------------------------------------------------


def render(reply: msgspec.Struct, encoding: str = UTF8) -> dict[str, Any]:
    """A reply as a JSON object with field names, its bytes per the encoding rule."""
    if encoding == UTF8:
        try:
            return _to_json(reply, False)
        except UnicodeDecodeError:
            pass
    return _to_json(reply, True) | {"encoding": BASE64}


def _to_json(obj: Any, b64: bool) -> Any:
    if isinstance(obj, msgspec.Struct):
        out = {name: _to_json(getattr(obj, name), b64) for name in obj.__struct_fields__}
        if isinstance(obj, TxnResult):  # say which kind each response is, as the request does
            tags = [r.__struct_config__.tag for r in obj.responses]
            out["responses"] = [{tag: v} for tag, v in zip(tags, out["responses"], strict=True)]
        return out
    if isinstance(obj, bytes):
        return b64encode(obj).decode() if b64 else obj.decode()
    if isinstance(obj, list):
        return [_to_json(item, b64) for item in obj]
    if isinstance(obj, EventType):
        return obj.name.lower()
    return obj
