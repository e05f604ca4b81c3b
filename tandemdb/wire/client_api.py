"""The client protocol, shared by the native port (msgpack frames) and the HTTP/JSON API.

A client opens a connection, sends ``ClientHello``, and gets one back from the node (or an ``Error`` frame
and a closed connection). Then it pipelines ``Request`` frames, each with its own id; the node answers each
with a ``Response`` carrying the same id, in any order. A watch is a request whose response keeps coming:
one ``Response`` per batch of events, with the id of the ``WatchCreate`` request, until it is canceled.

State machine operations are the machines' own commands (``tandemdb.kv.commands``, ``tandemdb.counter``); the
node's own are below.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from ..counter import CounterAdd, CounterGet, CounterResult
from ..kv.commands import (
    Compact,
    DeleteRange,
    LeaseGrant,
    LeaseKeepAlive,
    LeaseList,
    LeaseRevoke,
    LeaseTimeToLive,
    Put,
    Range,
    Txn,
)
from ..kv.results import Event, KeyValue, LeaseListResult, LeaseTTLResult, Result

CLIENT_MAGIC = b"TNDMCLNT"
CLIENT_VERSION = 1

# -- operations beyond the KV commands ----------------------------------------------------------------------------


class WatchCreate(msgspec.Struct, tag="watch", array_like=True, omit_defaults=True):
    """Stream the changes to a key range from ``start_revision`` (0: from the next change)."""

    key: bytes
    range_end: bytes = b""
    start_revision: int = 0
    prev_kv: bool = False


class WatchCancel(msgspec.Struct, tag="watch_cancel", array_like=True):
    watch_id: int  # the id of the WatchCreate request


class Member(msgspec.Struct, array_like=True, omit_defaults=True):
    """A node as the cluster knows it. ``peer``/``client`` are host:port, ``http`` a URL."""

    id: int
    peer: str
    client: str = ""
    http: str = ""
    region: str = ""
    zone: str = ""


class MemberList(msgspec.Struct, tag="member_list", array_like=True):
    pass


class MemberAdd(msgspec.Struct, tag="member_add", array_like=True):
    """Add ``member`` (id 0: the next free id) as a learner, or as a voter if ``learner`` is false."""

    member: Member
    learner: bool = True


class MemberRemove(msgspec.Struct, tag="member_remove", array_like=True):
    id: int


class MemberPromote(msgspec.Struct, tag="member_promote", array_like=True):
    """Make a learner a voter; refused until it has caught up with the leader's log."""

    id: int


class Status(msgspec.Struct, tag="status", array_like=True):
    pass


class MoveLeader(msgspec.Struct, tag="move_leader", array_like=True):
    target: int


class GroupCreate(msgspec.Struct, tag="group_create", array_like=True):
    """Host a new Raft group on the node this is sent to (send it to every one of ``members``, with the same
    members everywhere: each founding replica writes the same first log). A node not among ``members`` hosts
    an empty replica that a member change adds later. Low-level: the placement driver will make groups."""

    group: int
    members: list[int]


class SnapshotSave(msgspec.Struct, tag="snapshot_save", array_like=True):
    """A consistent copy of the group's state as of a linearizable read point."""


KVOp = Range | Put | DeleteRange | Txn | LeaseGrant | LeaseRevoke | Compact
Op = (
    Range
    | Put
    | DeleteRange
    | Txn
    | LeaseGrant
    | LeaseRevoke
    | Compact
    | LeaseKeepAlive
    | LeaseTimeToLive
    | LeaseList
    | WatchCreate
    | WatchCancel
    | MemberList
    | MemberAdd
    | MemberRemove
    | MemberPromote
    | Status
    | MoveLeader
    | SnapshotSave
    | GroupCreate
    | CounterAdd
    | CounterGet
)

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
    "Event",
    "KVOp",
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
