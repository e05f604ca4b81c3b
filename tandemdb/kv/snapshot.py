"""The snapshot format of the KV state machine: the whole MVCC state in one msgpack document."""

from __future__ import annotations

import msgspec

from .results import KeyValue

FORMAT = 2  # format 1 also held client sessions, which the replication layer keeps now
READABLE = (1, 2)  # a format 1 snapshot's trailing session fields are ignored


class Snapshot(msgspec.Struct, array_like=True, gc=False):
    """Every list is in a canonical order, so equal states encode to equal bytes."""

    format: int
    revision: int
    compact_revision: int
    base: list[KeyValue]  # by key: each key's version kept at or before ``compact_revision``
    log: list[KeyValue]  # every change after ``compact_revision``, in (revision, sub-revision) order
    leases: list[tuple[int, int]]  # (id, ttl_s) by id; attached keys follow from the latest versions


encode = msgspec.msgpack.Encoder().encode
decode = msgspec.msgpack.Decoder(Snapshot).decode
