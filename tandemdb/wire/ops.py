"""The registry of operations: every operation of the client protocol, in one table, and how each one travels.

``OPS`` below is the one place where an operation becomes part of the protocol. Everything else is derived:

- the wire union ``Op`` (``Request.op``, so the native codec decodes every registered operation),
- the node's dispatch: a state machine's operations by the machine's own ``OpKinds``, which are also the kinds
  below (``machine_ops``); the node's own (ADMIN, STREAM) by a handler table in ``tandemdb.node.node`` that must
  cover them (checked when that module loads),
- the HTTP API: a route for each operation that has one, its JSON body (``tandemdb.wire.http_bodies``), GET for
  an operation without body (built with no argument), a streaming answer for a STREAM (``server/http_api.py``),
- the client: ``AsyncClient.call`` sends a WRITE with a client session (one ``(client_id, seq)`` for all its
  retries, so it applies once) and anything else without, resent as is; a STREAM has its own API (a watch).

Invariants, checked when a registry is built (a broken table fails at import): an operation is a tagged,
array-like msgspec struct registered once; tags and HTTP routes are unique; a POST route names a JSON body, a
GET route none, and its operation can be built with no argument.
``tests/wire/test_ops_registry.py`` checks the rest: the wire union, the served routes, ``openapi.json``, the
client's sessions, and that every state machine's operations are registered.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias

import msgspec

from ..counter import COUNTER_OPS
from ..kv.commands import (
    KV_OPS,
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
from ..state_machine import OpKinds
from . import http_bodies as b
from .node_ops import (
    GroupCreate,
    GroupRemove,
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


class OpKind(StrEnum):
    """How an operation travels, and who serves it."""

    WRITE = "write"  # a state machine command: through the log; the client sends it with a session (exactly once)
    READ = "read"  # answered by a state machine from its state (or, on the leader, its timers); resent as is
    STREAM = "stream"  # a request whose answer keeps coming until canceled (a watch), or its cancel
    ADMIN = "admin"  # served by the node itself: membership, status, leadership, backups, groups; resent as is


MACHINE_KINDS = (OpKind.WRITE, OpKind.READ)  # served by a group's state machine; the rest by the node itself
HTTP_METHODS = ("GET", "POST")


class OpSpec(NamedTuple):
    """One operation of the protocol. ``http_route`` is "METHOD /path" ("": not served over HTTP); a POST
    route decodes ``http_body`` and builds the operation from it, a GET route builds ``op_type()``."""

    op_type: type[msgspec.Struct]
    kind: OpKind
    http_route: str = ""
    http_body: type[b.JsonBody] | None = None

    @property
    def tag(self) -> str:
        """The operation's tag on the wire."""
        return str(self.op_type.__struct_config__.tag)

    @property
    def session(self) -> bool:
        """Whether the client sends it with a session: a retry then applies once, and never twice."""
        return self.kind is OpKind.WRITE

    @property
    def http_method(self) -> str:
        return self.http_route.partition(" ")[0]

    @property
    def http_path(self) -> str:
        return self.http_route.partition(" ")[2]


def machine_ops(kinds: OpKinds, http: Mapping[type, tuple[str, type[b.JsonBody] | None]] | None = None) -> list[OpSpec]:
    """The entries of a state machine's operations: WRITE for its writes, READ for its reads and leader reads
    (as the machine's ``OpKinds`` says: the kinds are written once, by the machine), with the HTTP routes and
    bodies of ``http`` (operation -> ("METHOD /path", body))."""
    http = dict(http or {})
    strangers = [t.__name__ for t in http if t not in (*kinds.writes, *kinds.reads, *kinds.leader)]
    if strangers:
        raise ValueError(f"HTTP routes given for operations the machine does not serve: {strangers}")
    specs = [OpSpec(t, OpKind.WRITE, *http.pop(t, ("", None))) for t in kinds.writes]
    return specs + [OpSpec(t, OpKind.READ, *http.pop(t, ("", None))) for t in (*kinds.reads, *kinds.leader)]


class OpRegistry:
    """An immutable table of ``OpSpec``, checked when built; iterates in table order."""

    def __init__(self, specs: Iterable[OpSpec]) -> None:
        self._specs: dict[type, OpSpec] = {}
        tags: dict[str, type] = {}
        routes: dict[str, type] = {}
        for spec in specs:
            _check(spec)
            t = spec.op_type
            if t in self._specs:
                raise ValueError(f"{t.__name__} is registered twice")
            if spec.tag in tags:
                raise ValueError(f"{t.__name__} and {tags[spec.tag].__name__} share the tag {spec.tag!r}")
            if spec.http_route in routes:
                raise ValueError(f"{t.__name__} and {routes[spec.http_route].__name__} share {spec.http_route}")
            self._specs[t] = spec
            tags[spec.tag] = t
            if spec.http_route:
                routes[spec.http_route] = t

    def __iter__(self) -> Iterator[OpSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, op_type: object) -> bool:
        return op_type in self._specs

    def spec(self, op_type: type) -> OpSpec:
        """The entry of ``op_type``; raises ``TypeError`` if it is no operation."""
        spec = self._specs.get(op_type)
        if spec is None:
            raise TypeError(f"{op_type.__name__} is not an operation of the client protocol (tandemdb.wire.ops)")
        return spec

    def types(self, *kinds: OpKind) -> tuple[type[msgspec.Struct], ...]:
        """The operations of ``kinds`` (every one if none is given), in table order."""
        return tuple(s.op_type for s in self._specs.values() if not kinds or s.kind in kinds)

    def http_routes(self) -> list[OpSpec]:
        return [s for s in self._specs.values() if s.http_route]

    def union(self) -> Any:
        """The union of every operation, for msgspec: a tagged union decodes any of them from its tag."""
        return functools.reduce(operator.or_, self.types())

    def with_ops(self, *specs: OpSpec) -> OpRegistry:
        """A copy with more operations (tests; a new state machine's operations go in ``OPS`` itself)."""
        return OpRegistry([*self, *specs])


def _check(spec: OpSpec) -> None:
    t = spec.op_type
    config = getattr(t, "__struct_config__", None)
    if config is None or not isinstance(config.tag, str) or not config.array_like:
        raise ValueError(f"{t!r}: an operation is a msgspec struct with a string tag and array_like=True")
    if not isinstance(spec.kind, OpKind):
        raise ValueError(f"{t.__name__}: kind {spec.kind!r} is not an OpKind")
    if not spec.http_route:
        if spec.http_body is not None:
            raise ValueError(f"{t.__name__}: an HTTP body without a route")
        return
    method, path = spec.http_method, spec.http_path
    if method not in HTTP_METHODS or not path.startswith("/") or " " in path:
        raise ValueError(f"{t.__name__}: HTTP route {spec.http_route!r} is not 'GET /path' or 'POST /path'")
    if (method == "POST") != (spec.http_body is not None):
        raise ValueError(f"{t.__name__}: a POST route needs a JSON body, and a GET route has none")
    if method == "GET" and len(t.__struct_defaults__) != len(t.__struct_fields__):
        raise ValueError(f"{t.__name__}: a GET route builds its operation with no argument, but it needs some")


# The table. A state machine's operations take their kinds from its ``OpKinds`` (``machine_ops``); the node's
# own are written out. Order is only the order of listings; the wire tells operations apart by tag.
OPS = OpRegistry(
    [
        *machine_ops(
            KV_OPS,  # tandemdb.kv
            {
                Range: ("POST /v1/kv/range", b.RangeBody),
                Put: ("POST /v1/kv/put", b.PutBody),
                DeleteRange: ("POST /v1/kv/delete_range", b.DeleteRangeBody),
                Txn: ("POST /v1/kv/txn", b.TxnBody),
                Compact: ("POST /v1/kv/compact", b.CompactBody),
                LeaseGrant: ("POST /v1/lease/grant", b.LeaseGrantBody),
                LeaseRevoke: ("POST /v1/lease/revoke", b.LeaseRevokeBody),
                LeaseKeepAlive: ("POST /v1/lease/keepalive", b.LeaseKeepAliveBody),
                LeaseTimeToLive: ("POST /v1/lease/timetolive", b.LeaseTimeToLiveBody),
                LeaseList: ("GET /v1/lease/list", None),
            },
        ),
        *machine_ops(COUNTER_OPS),  # tandemdb.counter: not served over HTTP
        # The node's own (tandemdb.wire.node_ops), served by ``Node`` itself.
        OpSpec(WatchCreate, OpKind.STREAM, "POST /v1/watch", b.WatchBody),
        OpSpec(WatchCancel, OpKind.STREAM),
        OpSpec(MemberList, OpKind.ADMIN, "GET /v1/members"),
        OpSpec(MemberAdd, OpKind.ADMIN, "POST /v1/members/add", b.MemberAddBody),
        OpSpec(MemberRemove, OpKind.ADMIN, "POST /v1/members/remove", b.MemberRemoveBody),
        OpSpec(MemberPromote, OpKind.ADMIN, "POST /v1/members/promote", b.MemberPromoteBody),
        OpSpec(Status, OpKind.ADMIN, "GET /v1/status"),
        OpSpec(MoveLeader, OpKind.ADMIN, "POST /v1/move_leader", b.MoveLeaderBody),
        OpSpec(SnapshotSave, OpKind.ADMIN, "GET /v1/snapshot"),
        OpSpec(GroupCreate, OpKind.ADMIN),
        OpSpec(GroupRemove, OpKind.ADMIN),
    ]
)

# ``Op``, the union of every registered operation, is what ``Request.op`` decodes. msgspec needs it as a real
# union at run time, so it is computed from the table. A type checker cannot compute a union from a table, and
# spelling the union out for it would be a second list to keep in step; so it sees the honest common type, a
# msgspec struct: a function that takes an ``Op`` accepts any operation, and which structs are operations is
# checked at run time (``OPS.spec``) and by tests/wire/test_ops_registry.py. The structs that code narrows to
# with ``isinstance`` keep their precise types.
if TYPE_CHECKING:
    Op: TypeAlias = msgspec.Struct
else:
    Op = OPS.union()

__all__ = ["MACHINE_KINDS", "OPS", "Op", "OpKind", "OpRegistry", "OpSpec", "machine_ops"]
