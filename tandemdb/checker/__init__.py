"""Checkers for recorded client histories: linearizability of key-value registers (here), the bank
invariants (``checker.bank``) and list-append transactional anomalies (``checker.list_append``)."""

from tandemdb.checker.history import HistoryRecorder, Op, Value, from_jsonl, to_jsonl
from tandemdb.checker.linearizability import CheckResult, KeyFailure, check, describe

__all__ = [
    "CheckResult",
    "HistoryRecorder",
    "KeyFailure",
    "Op",
    "Value",
    "check",
    "describe",
    "from_jsonl",
    "to_jsonl",
]
