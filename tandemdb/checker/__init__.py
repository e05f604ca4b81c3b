"""Checkers for recorded client histories: linearizability of key-value registers (here), the bank
invariants (``checker.bank``) and list-append transactional anomalies (``checker.list_append``)."""

from tandemdb.checker.history import Op, Recorder, from_jsonl, to_jsonl
from tandemdb.checker.linearizability import CheckResult, KeyFailure, Value, check, describe

__all__ = [
    "CheckResult",
    "KeyFailure",
    "Op",
    "Recorder",
    "Value",
    "check",
    "describe",
    "from_jsonl",
    "to_jsonl",
]
