"""The snapshot format of the KV state machine: the whole MVCC state in one msgpack document."""

from __future__ import annotations

import msgspec

from .results import KeyValue, Result

FORMAT = 1


class Session(msgspec.Struct, array_like=True, gc=False):
    """A client's last applied ``seq`` and the result it returned, replayed to a retry of the same seq."""

    client_id: int
    seq: int
    result: Result
    epoch: int = 0  # the session epoch of its last use (see ``SessionSweep``); absent before sweeps existed


class Snapshot(msgspec.Struct, array_like=True, gc=False):
    """Every list is in a canonical order, so equal states encode to equal bytes."""

    format: int
    revision: int
    compact_revision: int
    base: list[KeyValue]  # by key: each key's version kept at or before ``compact_revision``
    log: list[KeyValue]  # every change after ``compact_revision``, in (revision, sub-revision) order
    leases: list[tuple[int, int]]  # (id, ttl_s) by id; attached keys follow from the latest versions
    sessions: list[Session]  # by client id
    session_epoch: int = 0  # SessionSweeps applied so far


encode = msgspec.msgpack.Encoder().encode
decode = msgspec.msgpack.Decoder(Snapshot).decode
