"""What the KV state machine returns: key versions, watch events, per-command results and error codes.

Every result carries ``revision``, the store's revision once the command was applied (etcd's header).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

import msgspec


class KeyValue(msgspec.Struct, array_like=True, gc=False):
    """One version of a key. A tombstone (the key's deletion) has ``version == 0`` and an empty value."""

    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int = 0


class EventType(IntEnum):
    PUT = 0
    DELETE = 1


class Event(msgspec.Struct, array_like=True, gc=False):
    """A change: ``kv`` is the new version (a tombstone for DELETE), ``prev_kv`` the live version it replaced."""

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None = None


class RangeResult(msgspec.Struct, tag="range", array_like=True, gc=False):
    revision: int
    kvs: list[KeyValue]
    count: int  # keys matching, before ``limit``
    more: bool  # ``limit`` cut some off


class PutResult(msgspec.Struct, tag="put", array_like=True, gc=False):
    revision: int
    prev_kv: KeyValue | None = None


class DeleteRangeResult(msgspec.Struct, tag="delete_range", array_like=True, gc=False):
    revision: int
    deleted: int
    prev_kvs: list[KeyValue] = []


class TxnResult(msgspec.Struct, tag="txn", array_like=True, gc=False):
    revision: int
    succeeded: bool
    responses: list[RangeResult | PutResult | DeleteRangeResult] = []


class LeaseGrantResult(msgspec.Struct, tag="lease_grant", array_like=True, gc=False):
    revision: int
    id: int
    ttl_s: int


class LeaseRevokeResult(msgspec.Struct, tag="lease_revoke", array_like=True, gc=False):
    revision: int


class CompactResult(msgspec.Struct, tag="compact", array_like=True, gc=False):
    revision: int


class LeaseTTLResult(msgspec.Struct, tag="lease_ttl", array_like=True):
    id: int
    ttl_s: int  # remaining seconds; -1 if the lease does not exist
    granted_ttl_s: int = 0
    keys: list[bytes] = []


class LeaseListResult(msgspec.Struct, tag="lease_list", array_like=True):
    ids: list[int]


class ErrorCode(StrEnum):
    COMPACTED = "compacted"  # the revision asked for is compacted; see ``compact_revision``
    FUTURE_REVISION = "future_revision"
    KEY_EMPTY = "key_empty"
    KEY_TOO_LARGE = "key_too_large"
    VALUE_TOO_LARGE = "value_too_large"
    TOO_MANY_OPS = "too_many_ops"
    DUPLICATE_KEY = "duplicate_key"
    BAD_COMPARE = "bad_compare"
    BAD_ARGUMENT = "bad_argument"
    KEY_NOT_FOUND = "key_not_found"  # ignore_value / ignore_lease on a missing key
    LEASE_NOT_FOUND = "lease_not_found"
    LEASE_EXISTS = "lease_exists"
    UNKNOWN_COMMAND = "unknown_command"


class ErrorResult(msgspec.Struct, tag="error", array_like=True, gc=False):
    """The command was rejected as a whole: nothing of it was applied."""

    revision: int
    code: ErrorCode
    message: str
    compact_revision: int = 0


Result = (
    RangeResult
    | PutResult
    | DeleteRangeResult
    | TxnResult
    | LeaseGrantResult
    | LeaseRevokeResult
    | CompactResult
    | ErrorResult
)


class KVStats(msgspec.Struct, gc=False):
    keys: int  # live keys
    versions: int  # key versions kept, tombstones included
    approx_bytes: int  # keys and values of the versions kept
    revision: int
    compact_revision: int
    leases: int
