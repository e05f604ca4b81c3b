"""Client sessions: exactly-once writes for every state machine, kept by the group driver (as TigerBeetle's
VSR layer keeps its client table), not by the machines.

A client tags each write with ``(client_id, seq)`` and reuses the pair for every retry of that write. The table
remembers each client's last applied seq and the result it returned: a retry of that seq gets the stored
result again instead of applying twice, and an older seq is refused. The table is replicated state: it is
changed only by applying entries, and it travels in the group's snapshots.

Bounded: every ``SessionSweep`` (the leader proposes one every half session TTL) starts a new epoch and forgets
the clients whose last write is ``IDLE_SWEEPS`` epochs old, so a client is forgotten after at least one session
TTL without writes. Its next write, with a later seq, starts a new record.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from ..wire.client_api import Error, ErrorKind

IDLE_SWEEPS = 3  # with a sweep every half TTL, a record this many epochs old was idle for a TTL or more

R = TypeVar("R")


class SessionRecord(msgspec.Struct, Generic[R], array_like=True, gc=False):
    client_id: int
    seq: int
    result: R
    epoch: int


class SessionsState(msgspec.Struct, Generic[R], array_like=True, gc=False):
    epoch: int
    records: list[SessionRecord[R]]  # by client id


class SessionTable:
    def __init__(self, result_type: Any) -> None:
        self._records: dict[int, tuple[int, Any, int]] = {}  # client id -> (last seq, its result, epoch)
        self.epoch = 0
        self._decode = msgspec.msgpack.Decoder(SessionsState[result_type | Error]).decode

    def __len__(self) -> int:
        return len(self._records)

    def is_new(self, client_id: int, seq: int) -> bool:
        """Whether the client's ``seq`` was never applied (the hot path: one lookup, no allocation)."""
        last = self._records.get(client_id)
        return last is None or seq > last[0]

    def replay(self, client_id: int, seq: int) -> Any | None:
        """The answer to a write already seen (its stored result, or a refusal of an older seq); None if new."""
        last = self._records.get(client_id)
        if last is None or seq > last[0]:
            return None
        if seq == last[0]:
            return last[1]
        return Error(ErrorKind.STALE_SEQ, f"client {client_id}: seq {seq} is older than its last applied seq {last[0]}")

    def record(self, client_id: int, seq: int, result: Any) -> None:
        last = self._records.get(client_id)
        if last is not None and seq < last[0]:  # the same seq again only with the duplicate_retry bug
            raise AssertionError(f"session of client {client_id}: seq {seq} recorded after seq {last[0]}")
        self._records[client_id] = (seq, result, self.epoch)

    def sweep(self) -> int:
        """Start a new epoch; forget idle clients. Returns how many."""
        self.epoch += 1
        last_kept = self.epoch - IDLE_SWEEPS
        idle = [client for client, (_, _, epoch) in self._records.items() if epoch <= last_kept]
        for client in idle:
            del self._records[client]
        return len(idle)

    def snapshot(self) -> bytes:
        records = [SessionRecord(c, seq, result, epoch) for c, (seq, result, epoch) in sorted(self._records.items())]
        return _encode(SessionsState(self.epoch, records))

    def restore(self, data: bytes) -> None:
        state = self._decode(data) if data else SessionsState(0, [])
        self._records = {r.client_id: (r.seq, r.result, r.epoch) for r in state.records}
        self.epoch = state.epoch


_encode = msgspec.msgpack.Encoder().encode
