"""``KVStore``: the etcd-like MVCC state machine. It applies committed commands, serves reads and watch events,
and snapshots itself. Pure and deterministic: no clock, no I/O, no chance; time only arrives inside commands.

Revisions follow etcd: the store revision grows by one for each command that changes a key (a txn's changes
share it, ordered by their position, etcd's sub-revision); lease grants and compactions do not change it.
Every check runs before the first change, so a command that fails changes nothing.
Objects returned (key versions, events) are shared with the store: treat them as read-only.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from operator import eq, gt, lt, ne
from typing import Any

from . import snapshot as snap
from .commands import (
    CREATE,
    LEASE,
    MOD,
    VALUE,
    VERSION,
    Command,
    Compact,
    Compare,
    DeleteRange,
    LeaseGrant,
    LeaseRevoke,
    Put,
    Range,
    RequestOp,
    Txn,
)
from .index import KeyIndex, in_span
from .leases import LeaseInfo, LeaseTable
from .results import (
    CompactResult,
    DeleteRangeResult,
    ErrorCode,
    ErrorResult,
    Event,
    EventType,
    KeyValue,
    KVStats,
    LeaseGrantResult,
    LeaseRevokeResult,
    PutResult,
    RangeResult,
    Result,
    TxnResult,
)
from .validate import (
    MAX_KEY_BYTES,
    MAX_TXN_OPS,
    MAX_VALUE_BYTES,
    Rejected,
    check_key,
    check_lease_grant,
    check_put,
    check_range,
    check_txn,
)

_COMPARE_OPS = {"==": eq, "!=": ne, "<": lt, ">": gt}
_COMPARE_FIELDS = {VALUE: "value", VERSION: "version", CREATE: "create_revision", MOD: "mod_revision", LEASE: "lease"}
_PUT, _DELETE = EventType.PUT, EventType.DELETE


def _event_revision(event: Event) -> int:
    return event.kv.mod_revision


class KVStore:
    """Apply batches with ``apply``; serve reads with ``range`` and watches with ``events``.

    Every replica must be built with the same limits: they decide which commands are rejected.
    """

    def __init__(self, *, max_value_bytes: int = MAX_VALUE_BYTES, max_txn_ops: int = MAX_TXN_OPS) -> None:
        self.max_value_bytes = max_value_bytes
        self.max_txn_ops = max_txn_ops
        self._handlers: dict[type, Callable[[Any, int], Result]] = {
            Put: self._apply_put,
            DeleteRange: self._apply_delete_range,
            Txn: self._apply_txn,
            Range: self._apply_range,
            LeaseGrant: self._apply_lease_grant,
            LeaseRevoke: self._apply_lease_revoke,
            Compact: self._apply_compact,
        }
        self._clear()

    def _clear(self) -> None:
        self._index = KeyIndex()
        self._versions = self._index.versions
        self._leases = LeaseTable()
        self._events: list[Event] = []  # every change after the compact revision, in order
        self._revision = 0
        self._compact_revision = 0
        self._live = 0  # live keys
        self._bytes = 0  # keys and values of the versions kept
        self._batch_from = 0  # where the events of the batch being applied start in ``_events``
        self._batch_compacted: list[Event] = []  # the batch's events that a Compact in it dropped

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def compact_revision(self) -> int:
        return self._compact_revision

    # Applying.

    def apply(self, cmds: list[Command]) -> tuple[list[Result], list[Event]]:
        """Apply committed commands in order: one result each, and the events they produced (with prev kv).

        Each command is all-or-nothing: a rejected one returns an ``ErrorResult`` and changes nothing.
        """
        self._batch_from = len(self._events)
        self._batch_compacted = []
        results = [self._apply_one(cmd) for cmd in cmds]
        events = self._events[self._batch_from :]
        return (results, self._batch_compacted + events if self._batch_compacted else events)

    def _apply_one(self, cmd: Command) -> Result:
        handler = self._handlers.get(type(cmd))
        if handler is None:
            return ErrorResult(self._revision, ErrorCode.UNKNOWN_COMMAND, f"not a KV command: {type(cmd).__name__}")
        try:
            return handler(cmd, self._revision + 1)  # writes move ``_revision`` to it
        except Rejected as e:
            return ErrorResult(self._revision, e.code, e.message, e.compact_revision)

    def _apply_put(self, cmd: Put, revision: int) -> PutResult:
        key = cmd.key
        if 0 < len(key) <= MAX_KEY_BYTES and len(cmd.value) <= self.max_value_bytes and not (
            cmd.lease or cmd.ignore_value or cmd.ignore_lease
        ):  # the common shape, that no check can reject
            prev = self._index.latest(key)
        else:
            check_put(cmd, self.max_value_bytes)
            prev = self._check_put_state(cmd)
        self._put(cmd, revision, prev)
        return PutResult(revision, prev if cmd.prev_kv else None)

    def _apply_delete_range(self, cmd: DeleteRange, revision: int) -> DeleteRangeResult:
        check_key(cmd.key)
        return self._delete_range(cmd, revision)

    def _apply_range(self, cmd: Range, revision: int) -> RangeResult:
        check_range(cmd)
        self._check_read_revision(cmd.revision)
        return self._range(cmd)

    def _apply_txn(self, cmd: Txn, revision: int) -> TxnResult:
        check_txn(cmd, self.max_value_bytes, self.max_txn_ops)
        succeeded = all(self._compare(c) for c in cmd.compares)
        ops = cmd.success if succeeded else cmd.failure
        prevs = [self._check_op_state(op) for op in ops]
        responses = [self._run_op(op, prev, revision) for op, prev in zip(ops, prevs, strict=True)]
        for response in responses:
            response.revision = self._revision  # reads and no-op deletes ran before the txn's last change
        return TxnResult(self._revision, succeeded, responses)

    def _apply_lease_grant(self, cmd: LeaseGrant, revision: int) -> LeaseGrantResult:
        check_lease_grant(cmd)
        if cmd.id in self._leases:
            raise Rejected(ErrorCode.LEASE_EXISTS, f"lease {cmd.id} already exists")
        self._leases.grant(cmd.id, cmd.ttl_s)
        return LeaseGrantResult(self._revision, cmd.id, cmd.ttl_s)

    def _apply_lease_revoke(self, cmd: LeaseRevoke, revision: int) -> LeaseRevokeResult:
        if cmd.id not in self._leases:
            raise Rejected(ErrorCode.LEASE_NOT_FOUND, f"lease {cmd.id} not found")
        for key in self._leases.revoke(cmd.id):
            self._tombstone(self._versions[key], revision)
        return LeaseRevokeResult(self._revision)

    def _apply_compact(self, cmd: Compact, revision: int) -> CompactResult:
        target = cmd.revision
        if target < 1:
            raise Rejected(ErrorCode.BAD_ARGUMENT, "compact revision must be >= 1")
        if target <= self._compact_revision:
            message = f"revision {target} is already compacted (compact revision {self._compact_revision})"
            raise Rejected(ErrorCode.COMPACTED, message, self._compact_revision)
        if target > self._revision:
            raise Rejected(ErrorCode.FUTURE_REVISION, f"revision {target} is newer than the store's {self._revision}")
        events = self._events
        cut = bisect_right(events, target, key=_event_revision)
        self._bytes -= self._index.compact({e.kv.key for e in events[:cut]}, target)
        if cut > self._batch_from:
            self._batch_compacted += events[self._batch_from : cut]
        self._batch_from = max(self._batch_from - cut, 0)
        del events[:cut]
        self._compact_revision = target
        return CompactResult(self._revision)

    # State checks: they run before a command changes anything.

    def _check_put_state(self, op: Put) -> KeyValue | None:
        """Returns the key's live version, if any."""
        prev = self._index.latest(op.key)
        if op.lease and op.lease not in self._leases:
            raise Rejected(ErrorCode.LEASE_NOT_FOUND, f"lease {op.lease} not found")
        if prev is None and (op.ignore_value or op.ignore_lease):
            raise Rejected(ErrorCode.KEY_NOT_FOUND, f"key {op.key!r} not found (ignore_value / ignore_lease)")
        return prev

    def _check_read_revision(self, revision: int) -> None:
        if revision > self._revision:
            raise Rejected(ErrorCode.FUTURE_REVISION, f"revision {revision} is newer than the store's {self._revision}")
        if revision and revision < self._compact_revision:
            message = f"revision {revision} is compacted (compact revision {self._compact_revision})"
            raise Rejected(ErrorCode.COMPACTED, message, self._compact_revision)

    def _check_op_state(self, op: RequestOp) -> KeyValue | None:
        if type(op) is Put:
            return self._check_put_state(op)
        if type(op) is Range:
            self._check_read_revision(op.revision)
        return None

    # Changing keys.

    def _run_op(
        self, op: RequestOp, prev: KeyValue | None, revision: int
    ) -> RangeResult | PutResult | DeleteRangeResult:
        if isinstance(op, Put):
            self._put(op, revision, prev)
            return PutResult(revision, prev if op.prev_kv else None)
        if isinstance(op, DeleteRange):
            return self._delete_range(op, revision)
        return self._range(op)

    def _put(self, op: Put, revision: int, prev: KeyValue | None) -> None:
        key = op.key
        # ``ignore_*`` on a missing key was refused by the checks (``_check_put_state``).
        value = prev.value if op.ignore_value and prev is not None else op.value
        lease = prev.lease if op.ignore_lease and prev is not None else op.lease
        if prev is None:
            versions = self._versions.get(key) or self._index.create(key)
            kv = KeyValue(key, value, revision, revision, 1, lease)
            self._live += 1
            old_lease = 0
        else:
            versions = self._versions[key]
            kv = KeyValue(key, value, prev.create_revision, revision, prev.version + 1, lease)
            old_lease = prev.lease
        if lease != old_lease:
            if old_lease:
                self._leases.detach(old_lease, key)
            if lease:
                self._leases.attach(lease, key)
        versions.append(kv)
        self._bytes += len(key) + len(value)
        self._events.append(Event(_PUT, kv, prev))
        self._revision = revision

    def _delete_range(self, op: DeleteRange, revision: int) -> DeleteRangeResult:
        deleted = []
        for key in self._index.keys(op.key, op.range_end):
            versions = self._versions[key]
            prev = versions[-1]
            if prev.version:
                if prev.lease:
                    self._leases.detach(prev.lease, key)
                self._tombstone(versions, revision)
                deleted.append(prev)
        return DeleteRangeResult(self._revision, len(deleted), deleted if op.prev_kv else [])

    def _tombstone(self, versions: list[KeyValue], revision: int) -> None:
        prev = versions[-1]
        kv = KeyValue(prev.key, b"", 0, revision, 0)
        versions.append(kv)
        self._live -= 1
        self._bytes += len(prev.key)
        self._events.append(Event(_DELETE, kv, prev))
        self._revision = revision

    # Reading.

    def _compare(self, c: Compare) -> bool:
        latest = self._index.latest
        kvs = [kv for kv in map(latest, self._index.keys(c.key, c.range_end)) if kv is not None]
        op = _COMPARE_OPS[c.result]
        if not kvs:
            return c.target != VALUE and op(0, c.value)
        field = _COMPARE_FIELDS[c.target]
        return all(op(getattr(kv, field), c.value) for kv in kvs)

    def _range(self, op: Range) -> RangeResult:
        """Reads at revision 0 see the latest state, including the writes of the txn running it."""
        index = self._index
        revision = op.revision
        kvs = []
        for key in index.keys(op.key, op.range_end):
            kv = index.at(key, revision) if revision else index.latest(key)
            if kv is not None:
                kvs.append(kv)
        if op.min_mod_revision or op.max_mod_revision or op.min_create_revision or op.max_create_revision:
            kvs = [kv for kv in kvs if _passes_filters(op, kv)]
        count = len(kvs)
        if op.count_only:
            return RangeResult(self._revision, [], count, False)
        more = 0 < op.limit < count
        if more:
            kvs = kvs[: op.limit]
        if op.keys_only:
            kvs = [KeyValue(kv.key, b"", kv.create_revision, kv.mod_revision, kv.version, kv.lease) for kv in kvs]
        return RangeResult(self._revision, kvs, count, more)

    def range(self, req: Range) -> RangeResult | ErrorResult:
        """Serve a read locally (after ReadIndex, or stale if serializable); it does not go through the log."""
        try:
            check_range(req)
            self._check_read_revision(req.revision)
        except Rejected as e:
            return ErrorResult(self._revision, e.code, e.message, e.compact_revision)
        return self._range(req)

    def events(
        self, start_revision: int, key: bytes, range_end: bytes = b"", *, prev_kv: bool = False, limit: int = 0
    ) -> list[Event] | ErrorResult:
        """The changes to the key range from ``start_revision`` on, in order; ``COMPACTED`` if some are gone.

        ``limit`` (0: none) stops after that many events but never inside a revision, so that a watcher can
        resume from the last revision it got plus one without a gap.
        """
        compacted = self._compact_revision
        if compacted and start_revision <= compacted:
            message = f"watch from revision {start_revision}: compacted up to revision {compacted}"
            return ErrorResult(self._revision, ErrorCode.COMPACTED, message, compacted)
        events = self._events
        out: list[Event] = []
        for event in events[bisect_left(events, start_revision, key=_event_revision) :]:
            if limit and len(out) >= limit and event.kv.mod_revision != out[-1].kv.mod_revision:
                break
            if in_span(event.kv.key, key, range_end):
                out.append(event if prev_kv else Event(event.type, event.kv))
        return out

    def leases(self) -> list[LeaseInfo]:
        """Every lease with its TTL and keys, by id: the leader rebuilds its expiry timers from this."""
        return self._leases.infos()

    def lease(self, lease_id: int) -> LeaseInfo | None:
        """One lease, e.g. to answer a keep-alive; None if it does not exist."""
        return self._leases.info(lease_id)

    def stats(self) -> KVStats:
        return KVStats(
            keys=self._live,
            versions=sum(len(v) for v in self._versions.values()),
            approx_bytes=self._bytes,
            revision=self._revision,
            compact_revision=self._compact_revision,
            leases=len(self._leases),
        )

    # Snapshots.

    def snapshot(self) -> bytes:
        """The whole state; equal states give equal bytes."""
        compacted = self._compact_revision
        base = []
        if compacted:
            for key in self._index.keys(b"\0", b"\0"):
                first = self._versions[key][0]
                if first.mod_revision <= compacted:
                    base.append(first)
        leases = [(info.id, info.ttl_s) for info in self._leases.infos()]
        log = [e.kv for e in self._events]
        state = snap.Snapshot(snap.FORMAT, self._revision, compacted, base, log, leases)
        return snap.encode(state)

    def restore(self, data: bytes) -> None:
        """Replace the whole state with a snapshot's (``b""``: the empty state). Bad data raises, changing nothing."""
        state = snap.decode(data) if data else snap.Snapshot(snap.FORMAT, 0, 0, [], [], [])
        if state.format not in snap.READABLE:
            raise ValueError(f"unknown KV snapshot format {state.format}")
        saved = dict(self.__dict__)
        try:
            self._load(state)
        except Exception:
            self.__dict__.update(saved)
            raise

    def _load(self, state: snap.Snapshot) -> None:
        self._clear()
        self._revision = state.revision
        self._compact_revision = state.compact_revision
        index = self._index
        for kv in state.base:
            index.create(kv.key).append(kv)
        last = state.compact_revision
        for kv in state.log:
            if not last <= kv.mod_revision <= state.revision:
                raise ValueError(f"KV snapshot: change at revision {kv.mod_revision} out of order")
            last = kv.mod_revision
            versions = index.versions.get(kv.key) or index.create(kv.key)
            prev = versions[-1] if versions and versions[-1].version else None
            versions.append(kv)
            self._events.append(Event(_PUT if kv.version else _DELETE, kv, prev))
        for lease_id, ttl_s in state.leases:
            self._leases.grant(lease_id, ttl_s)
        for key, versions in index.versions.items():
            self._bytes += sum(len(kv.key) + len(kv.value) for kv in versions)
            kv = versions[-1]
            if kv.version:
                self._live += 1
                if kv.lease:
                    if kv.lease not in self._leases:
                        raise ValueError(f"KV snapshot: key {key!r} is attached to unknown lease {kv.lease}")
                    self._leases.attach(kv.lease, key)

def _passes_filters(op: Range, kv: KeyValue) -> bool:
    return (
        kv.mod_revision >= op.min_mod_revision
        and (not op.max_mod_revision or kv.mod_revision <= op.max_mod_revision)
        and kv.create_revision >= op.min_create_revision
        and (not op.max_create_revision or kv.create_revision <= op.max_create_revision)
    )
