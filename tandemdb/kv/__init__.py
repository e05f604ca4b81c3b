"""An etcd-like key-value state machine: MVCC revisions, ranges, transactions, leases, watches, compaction.

Pure and deterministic (no clock, no I/O, no chance), so every Raft replica that applies the same committed
commands reaches byte-identical state. Reads are served with ``KVStore.range`` outside the log.
"""

from .codec import decode_batch, encode_batch
from .commands import (
    Command,
    Compact,
    Compare,
    DeleteRange,
    LeaseGrant,
    LeaseKeepAlive,
    LeaseList,
    LeaseRevoke,
    LeaseTimeToLive,
    Put,
    Range,
    RequestOp,
    Txn,
    WriteCommand,
    prefix_end,
)
from .leases import LeaseInfo
from .machine import KVMachine
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
    LeaseListResult,
    LeaseRevokeResult,
    LeaseTTLResult,
    PutResult,
    RangeResult,
    Result,
    TxnResult,
)
from .store import KVStore
from .validate import MAX_KEY_BYTES, MAX_TXN_OPS, MAX_VALUE_BYTES

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_TXN_OPS",
    "MAX_VALUE_BYTES",
    "Command",
    "Compact",
    "CompactResult",
    "Compare",
    "DeleteRange",
    "DeleteRangeResult",
    "ErrorCode",
    "ErrorResult",
    "Event",
    "EventType",
    "KVStats",
    "KVMachine",
    "KVStore",
    "KeyValue",
    "LeaseGrant",
    "LeaseGrantResult",
    "LeaseInfo",
    "LeaseKeepAlive",
    "LeaseList",
    "LeaseListResult",
    "LeaseTTLResult",
    "LeaseTimeToLive",
    "LeaseRevoke",
    "LeaseRevokeResult",
    "Put",
    "PutResult",
    "Range",
    "RangeResult",
    "RequestOp",
    "Result",
    "Txn",
    "TxnResult",
    "WriteCommand",
    "decode_batch",
    "encode_batch",
    "prefix_end",
]
