"""Commands of the KV state machine: msgspec structs in one tagged union, so that one decoder reads a batch.

Key ranges follow etcd: ``range_end == b""`` means the single key ``key``, ``range_end == b"\\0"`` every key
``>= key``, anything else the half-open interval ``[key, range_end)`` (see ``prefix_end`` for prefixes).

Exactly-once retries are not the store's business: the replication layer keeps client sessions for every state
machine (``tandemdb.node.sessions``), keyed by the request's ``(client_id, seq)``.
"""

from __future__ import annotations

import msgspec

from ..state_machine import OpKinds

# Compare targets and results.
VALUE, VERSION, CREATE, MOD, LEASE = "value", "version", "create", "mod", "lease"
TARGETS = (VALUE, VERSION, CREATE, MOD, LEASE)
RESULTS = ("==", "!=", "<", ">")


class Range(msgspec.Struct, tag="range", array_like=True, gc=False, omit_defaults=True):
    """Read keys as of ``revision`` (0: latest). Filters (0: none) apply before ``limit``; ``count`` is the total."""

    key: bytes
    range_end: bytes = b""
    revision: int = 0
    limit: int = 0
    keys_only: bool = False
    count_only: bool = False
    min_mod_revision: int = 0
    max_mod_revision: int = 0
    min_create_revision: int = 0
    max_create_revision: int = 0


class Put(msgspec.Struct, tag="put", array_like=True, gc=False, omit_defaults=True):
    """Set ``key`` to ``value``, attached to ``lease`` (0: none); ``ignore_*`` keep the key's current one."""

    key: bytes
    value: bytes = b""
    lease: int = 0
    prev_kv: bool = False
    ignore_value: bool = False
    ignore_lease: bool = False


class DeleteRange(msgspec.Struct, tag="delete_range", array_like=True, gc=False, omit_defaults=True):
    """Delete the live keys in the range, all in one revision."""

    key: bytes
    range_end: bytes = b""
    prev_kv: bool = False


class Compare(msgspec.Struct, array_like=True, gc=False, omit_defaults=True):
    """``target`` of every key in the range ``result`` ``value``: bytes for "value", an int otherwise.

    A missing key compares as version, revisions and lease 0; a "value" compare on a missing key is false.
    """

    key: bytes
    target: str
    result: str
    value: bytes | int
    range_end: bytes = b""


RequestOp = Range | Put | DeleteRange


class Txn(msgspec.Struct, tag="txn", array_like=True, gc=False, omit_defaults=True):
    """If every compare holds, run ``success`` in order, else ``failure``; all in one revision.

    Reads inside see the writes made before them in the same txn.
    """

    compares: list[Compare] = []
    success: list[RequestOp] = []
    failure: list[RequestOp] = []


class LeaseGrant(msgspec.Struct, tag="lease_grant", array_like=True, gc=False, omit_defaults=True):
    """Create lease ``id`` (> 0) with ``ttl_s``; its expiry is decided by the leader, which proposes a revoke."""

    id: int
    ttl_s: int


class LeaseRevoke(msgspec.Struct, tag="lease_revoke", array_like=True, gc=False, omit_defaults=True):
    """Drop lease ``id`` and delete every key attached to it, in one revision."""

    id: int


class Compact(msgspec.Struct, tag="compact", array_like=True, gc=False, omit_defaults=True):
    """Forget history before ``revision``: each key keeps its latest version at or before it."""

    revision: int


class LeaseKeepAlive(msgspec.Struct, tag="lease_keepalive", array_like=True):
    """Restart the lease's TTL (served by the leader, which alone times leases)."""

    id: int


class LeaseTimeToLive(msgspec.Struct, tag="lease_ttl", array_like=True):
    id: int
    keys: bool = False


class LeaseList(msgspec.Struct, tag="lease_list", array_like=True):
    pass


WriteCommand = Put | DeleteRange | Txn | LeaseGrant | LeaseRevoke | Compact  # KV_OPS.writes
Command = Range | Put | DeleteRange | Txn | LeaseGrant | LeaseRevoke | Compact

# How the KV machine serves each of its operations: ``KVMachine.ops``, and the kinds (write or read) of these
# operations in the registry of the client protocol (``tandemdb.wire.ops``).
KV_OPS = OpKinds(
    writes=(Put, DeleteRange, Txn, LeaseGrant, LeaseRevoke, Compact),
    reads=(Range, LeaseList),
    leader=(LeaseKeepAlive, LeaseTimeToLive),
)


def prefix_end(prefix: bytes) -> bytes:
    """The ``range_end`` that selects every key starting with ``prefix`` (``b"\\0"``: no upper bound)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"
