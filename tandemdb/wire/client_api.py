"""The client protocol, shared by the native port (msgpack frames) and the HTTP/JSON API.

A client opens a connection, sends ``ClientHello``, and gets one back from the node (or an ``Error`` frame
and a closed connection). Then it pipelines ``Request`` frames, each with its own id; the node answers each
with a ``Response`` carrying the same id, in any order. A watch is a request whose response keeps coming:
one ``Response`` per batch of events, with the id of the ``WatchCreate`` request, until it is canceled.

The operations are the state machines' own commands (``tandemdb.kv.commands``, ``tandemdb.counter``) and the
node's own (``tandemdb.wire.node_ops``); the registry of operations (``tandemdb.wire.ops``) lists them all and
derives ``Op``, the union that ``Request.op`` decodes. The replies and the envelopes are below.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from ..counter import CounterResult
from ..kv.commands import LeaseKeepAlive, LeaseList, LeaseTimeToLive
from ..kv.results import Event, KeyValue, LeaseListResult, LeaseTTLResult, Result
from .node_ops import (
    GroupCreate,
    GroupRemove,
    Member,
    MemberAdd,
    MemberList,
    MemberPromote,
    MemberRemove,
    MoveLeader,
    SnapshotSave,
    Status,
    WatchCancel,
    WatchCreate,
)
from .ops import Op

CLIENT_MAGIC = b"TNDMCLNT"
CLIENT_VERSION = 1

# -- results beyond the KV results ---------------------------------------------------------------------------------


class WatchEvents(msgspec.Struct, tag="watch_events", array_like=True):
    """A batch of events, all of whole revisions. ``created`` marks the first response of a watch; a response
    with ``canceled`` is the last (``compact_revision`` is set when the start revision was compacted)."""

    watch_id: int
    revision: int
    events: list[Event] = []
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    reason: str = ""


class MemberStatus(msgspec.Struct, array_like=True):
    member: Member
    learner: bool


class MemberListResult(msgspec.Struct, tag="member_list", array_like=True):
    members: list[MemberStatus]


class MemberResult(msgspec.Struct, tag="member", array_like=True):
    """Answer to add, remove and promote: the member concerned and the membership once it was applied."""

    member: Member
    members: list[MemberStatus]


class StatusResult(msgspec.Struct, tag="status", array_like=True):
    id: int
    member: Member
    group: int
    leader: int  # 0: none known
    is_leader: bool
    is_learner: bool
    term: int
    commit_index: int
    applied_index: int
    revision: int
    keys: int
    db_bytes: int
    version: str


class OkResult(msgspec.Struct, tag="ok", array_like=True):
    pass


class SnapshotResult(msgspec.Struct, tag="snapshot", array_like=True):
    """``data`` is a ``tandemdb.node.backup.Backup``, msgpack-encoded."""

    index: int
    revision: int
    data: bytes


class ErrorKind(StrEnum):
    NOT_LEADER = "not_leader"  # retry at ``leader_endpoint`` (empty if none is known yet)
    NO_LEADER = "no_leader"  # retry after an election
    UNAVAILABLE = "unavailable"  # the node cannot serve now (stopping, overloaded, no quorum): retry
    TIMEOUT = "timeout"  # no answer in time: a write may or may not have been applied
    BAD_REQUEST = "bad_request"  # malformed or invalid request: do not retry
    NOT_FOUND = "not_found"
    STALE_SEQ = "stale_seq"  # a write with an older seq than its client's last applied one: not applied, do not retry
    STORAGE = "storage"  # the node's disk failed
    INTERNAL = "internal"


class Error(msgspec.Struct, tag="error_reply", array_like=True, omit_defaults=True):
    kind: ErrorKind
    message: str
    leader: int = 0
    leader_endpoint: str = ""


Reply = (
    Result
    | LeaseTTLResult
    | LeaseListResult
    | CounterResult
    | WatchEvents
    | MemberListResult
    | MemberResult
    | StatusResult
    | OkResult
    | SnapshotResult
    | Error
)

# -- envelopes -----------------------------------------------------------------------------------------------------


class ClientHello(msgspec.Struct, array_like=True):
    magic: bytes
    version: int
    node_id: int = 0  # set by the node in its reply


class Request(msgspec.Struct, array_like=True, omit_defaults=True):
    """``group`` 0 lets the node route the request (by key, to the group that holds it)."""

    id: int
    op: Op
    serializable: bool = False  # reads: serve from this node's state, possibly stale, without ReadIndex
    group: int = 0
    timeout_ms: int = 0  # 0: the node's default
    traceparent: str = ""  # W3C trace context of the caller's span; empty: not traced
    # Writes: the client session ``(client_id, seq)`` that makes retries exactly-once (``node/sessions.py``);
    # every retry of one write carries the same pair. 0: no session.
    client_id: int = 0
    seq: int = 0


class Response(msgspec.Struct, array_like=True):
    id: int
    reply: Reply


encode = msgspec.msgpack.Encoder().encode
decode_hello = msgspec.msgpack.Decoder(ClientHello).decode
decode_request = msgspec.msgpack.Decoder(Request).decode
decode_response = msgspec.msgpack.Decoder(Response).decode

__all__ = [
    "CLIENT_MAGIC",
    "CLIENT_VERSION",
    "ClientHello",
    "Error",
    "ErrorKind",
    "GroupCreate",
    "GroupRemove",
    "Event",
    "KeyValue",
    "LeaseKeepAlive",
    "LeaseList",
    "LeaseListResult",
    "LeaseTTLResult",
    "LeaseTimeToLive",
    "Member",
    "MemberAdd",
    "MemberList",
    "MemberListResult",
    "MemberPromote",
    "MemberRemove",
    "MemberResult",
    "MemberStatus",
    "MoveLeader",
    "OkResult",
    "Op",
    "Reply",
    "Request",
    "Response",
    "SnapshotResult",
    "SnapshotSave",
    "Status",
    "StatusResult",
    "WatchCancel",
    "WatchCreate",
    "WatchEvents",
    "decode_request",
    "decode_response",
    "encode",
]
