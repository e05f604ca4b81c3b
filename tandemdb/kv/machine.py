"""``KVMachine``: the KV store as a replicated state machine (``tandemdb.state_machine``), with the leader's
lease timers as its leader duties.

The store (``KVStore``) is the replicated state. The timers (``LeaseTimer``) live on the group's leader only:
it starts one per lease when it takes over and when a grant applies, restarts one on a keep-alive, and
proposes a ``LeaseRevoke`` when one runs out. Followers never expire a lease.
"""

from __future__ import annotations

from ..state_machine import MachineStats
from .commands import (
    KV_OPS,
    DeleteRange,
    LeaseGrant,
    LeaseKeepAlive,
    LeaseList,
    LeaseRevoke,
    LeaseTimeToLive,
    Put,
    Range,
    Txn,
    WriteCommand,
)
from .lease_timer import LeaseTimer
from .results import (
    ErrorCode,
    ErrorResult,
    Event,
    LeaseGrantResult,
    LeaseListResult,
    LeaseRevokeResult,
    LeaseTTLResult,
    Result,
)
from .store import KVStore
from .validate import MAX_KEY_BYTES, Rejected, check_key, check_lease_grant, check_put, check_txn

_CHECKS = {
    Put: lambda m, c: check_put(c, m.store.max_value_bytes),
    Txn: lambda m, c: check_txn(c, m.store.max_value_bytes, m.store.max_txn_ops),
    DeleteRange: lambda m, c: check_key(c.key),
    LeaseGrant: lambda m, c: check_lease_grant(c),
}


class KVMachine:
    ops = KV_OPS
    command_type = WriteCommand
    result_type = Result

    def __init__(self, ticks_per_s: float, store: KVStore | None = None) -> None:
        self.store = store or KVStore()
        self.leases = LeaseTimer(ticks_per_s)
        self._retry_ticks = max(1, round(ticks_per_s))  # a revoke that did not apply is proposed again after 1 s

    def validate(self, cmd: WriteCommand) -> ErrorResult | None:
        if type(cmd) is Put and 0 < len(cmd.key) <= MAX_KEY_BYTES and len(cmd.value) <= self.store.max_value_bytes \
                and not (cmd.ignore_value or cmd.ignore_lease):
            return None  # the common shape, that no check can refuse (as in ``KVStore._apply_put``)
        check = _CHECKS.get(type(cmd))
        if check is None:
            return None
        try:
            check(self, cmd)
        except Rejected as e:
            return ErrorResult(self.store.revision, e.code, e.message, e.compact_revision)
        return None

    def apply(self, cmds: list[WriteCommand]) -> tuple[list[Result], list[Event]]:
        return self.store.apply(cmds)  # type: ignore[arg-type]

    def read(self, op: Range | LeaseList) -> Result | LeaseListResult:
        if isinstance(op, LeaseList):
            return LeaseListResult([info.id for info in self.store.leases()])
        return self.store.range(op)

    def snapshot(self) -> bytes:
        return self.store.snapshot()

    def restore(self, data: bytes) -> None:
        self.store.restore(data)

    def stats(self) -> MachineStats:
        st = self.store.stats()
        return MachineStats(st.revision, st.keys, st.approx_bytes)

    # -- leader duties ------------------------------------------------------------------------------------------
    def lead(self, now: int) -> None:
        for info in self.store.leases():
            self.leases.start(info.id, info.ttl_s, now)  # a new leader gives every lease a full TTL

    def unlead(self) -> None:
        self.leases.clear()

    def leader_applied(self, cmds: list[WriteCommand], results: list[Result], now: int) -> None:
        for cmd, result in zip(cmds, results, strict=True):
            kind = type(cmd)  # a type test per command, not two isinstance: most are puts
            if kind is LeaseGrant and isinstance(result, LeaseGrantResult):
                self.leases.start(result.id, result.ttl_s, now)
            elif kind is LeaseRevoke and isinstance(cmd, LeaseRevoke):
                if isinstance(result, (LeaseRevokeResult, ErrorResult)):
                    self.leases.forget(cmd.id)  # revoked, or already gone

    def leader_timers(self) -> bool:
        return bool(self.leases)

    def leader_tick(self, now: int) -> list[LeaseRevoke]:
        return [LeaseRevoke(lease_id) for lease_id in self.leases.expired(now, self._retry_ticks)]

    def leader_serve(self, op: LeaseKeepAlive | LeaseTimeToLive, now: int) -> LeaseTTLResult | ErrorResult:
        info = self.store.lease(op.id)
        if info is None:
            if isinstance(op, LeaseTimeToLive):
                return LeaseTTLResult(op.id, -1)  # as etcd: a TTL of -1 says the lease is gone
            message = f"lease {op.id} not found (expired or revoked)"
            return ErrorResult(self.store.revision, ErrorCode.LEASE_NOT_FOUND, message)
        if isinstance(op, LeaseKeepAlive):
            self.leases.start(op.id, info.ttl_s, now)
        remaining = self.leases.remaining_s(op.id, now)
        keys = info.keys if isinstance(op, LeaseTimeToLive) and op.keys else []
        return LeaseTTLResult(op.id, info.ttl_s if remaining is None else remaining, info.ttl_s, keys)
