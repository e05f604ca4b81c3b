"""Checks that need only the command itself (sizes, shapes, txn key overlaps), run before anything is applied."""

from __future__ import annotations

from .commands import RESULTS, TARGETS, VALUE, Compare, DeleteRange, LeaseGrant, Put, Range, RequestOp, Txn
from .index import in_span
from .results import ErrorCode

MAX_KEY_BYTES = 1536
MAX_VALUE_BYTES = 1 << 20
MAX_TXN_OPS = 128
MAX_LEASE_TTL_S = 9_000_000_000  # etcd's bound
MAX_ID = (1 << 63) - 1


class Rejected(Exception):
    """A command is refused as a whole; ``apply`` turns this into an ``ErrorResult``."""

    def __init__(self, code: ErrorCode, message: str, compact_revision: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.compact_revision = compact_revision


def check_key(key: bytes) -> None:
    if not key:
        raise Rejected(ErrorCode.KEY_EMPTY, "key is empty")


def check_range(op: Range) -> None:
    check_key(op.key)
    if op.revision < 0 or op.limit < 0:
        raise Rejected(ErrorCode.BAD_ARGUMENT, "revision and limit must be >= 0")


def check_put(op: Put, max_value_bytes: int) -> None:
    check_key(op.key)
    if len(op.key) > MAX_KEY_BYTES:
        raise Rejected(ErrorCode.KEY_TOO_LARGE, f"key is {len(op.key)} bytes, the limit is {MAX_KEY_BYTES}")
    if len(op.value) > max_value_bytes:
        raise Rejected(ErrorCode.VALUE_TOO_LARGE, f"value is {len(op.value)} bytes, the limit is {max_value_bytes}")
    if op.ignore_value and op.value:
        raise Rejected(ErrorCode.BAD_ARGUMENT, "ignore_value is set but a value is given")
    if op.ignore_lease and op.lease:
        raise Rejected(ErrorCode.BAD_ARGUMENT, "ignore_lease is set but a lease is given")


def check_compare(c: Compare) -> None:
    check_key(c.key)
    if c.target not in TARGETS:
        raise Rejected(ErrorCode.BAD_COMPARE, f"unknown compare target {c.target!r}")
    if c.result not in RESULTS:
        raise Rejected(ErrorCode.BAD_COMPARE, f"unknown compare result {c.result!r}")
    if (c.target == VALUE) != isinstance(c.value, bytes):
        wanted = "bytes" if c.target == VALUE else "an int"
        raise Rejected(ErrorCode.BAD_COMPARE, f"a {c.target!r} compare needs {wanted}, got {c.value!r}")


def check_txn(txn: Txn, max_value_bytes: int, max_ops: int) -> None:
    """Both branches are checked, whichever will run (as etcd does)."""
    for name in ("compares", "success", "failure"):
        if len(getattr(txn, name)) > max_ops:
            raise Rejected(ErrorCode.TOO_MANY_OPS, f"txn has more than {max_ops} {name}")
    for c in txn.compares:
        check_compare(c)
    for ops in (txn.success, txn.failure):
        for op in ops:
            check_op(op, max_value_bytes)
        _check_overlaps(ops)


def check_op(op: RequestOp, max_value_bytes: int) -> None:
    if type(op) is Put:
        check_put(op, max_value_bytes)
    elif type(op) is Range:
        check_range(op)
    else:
        check_key(op.key)


def check_lease_grant(cmd: LeaseGrant) -> None:
    if not 0 < cmd.id <= MAX_ID:
        raise Rejected(ErrorCode.BAD_ARGUMENT, f"lease id must be in 1..{MAX_ID}")
    if not 0 < cmd.ttl_s <= MAX_LEASE_TTL_S:
        raise Rejected(ErrorCode.BAD_ARGUMENT, f"lease ttl must be in 1..{MAX_LEASE_TTL_S} seconds")


def _check_overlaps(ops: list[RequestOp]) -> None:
    """A key may be put once, and not put and deleted, in one txn (deletes may overlap each other)."""
    puts: set[bytes] = set()
    deletes: list[DeleteRange] = []
    for op in ops:
        if type(op) is Put:
            if op.key in puts:
                raise Rejected(ErrorCode.DUPLICATE_KEY, f"duplicate key {op.key!r} given in txn request")
            puts.add(op.key)
        elif type(op) is DeleteRange:
            deletes.append(op)
    for d in deletes:
        for key in puts:
            if in_span(key, d.key, d.range_end):
                raise Rejected(ErrorCode.DUPLICATE_KEY, f"key {key!r} is both put and deleted in txn request")
