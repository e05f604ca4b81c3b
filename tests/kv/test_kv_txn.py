"""Transactions: every compare target and result, both branches, nested reads, atomicity, overlap rules."""

from __future__ import annotations

import pytest

from kv_helpers import one
from tandemdb.kv import (
    Compare,
    DeleteRange,
    ErrorCode,
    ErrorResult,
    KVStore,
    LeaseGrant,
    Put,
    PutResult,
    Range,
    Txn,
    TxnResult,
)


@pytest.fixture
def store() -> KVStore:
    """``a`` = b"5": created at 1, modified at 3, version 2, lease 7; ``b`` = b"1" at 2."""
    store = KVStore()
    store.apply([LeaseGrant(7, 10), Put(b"a", b"1"), Put(b"b", b"1"), Put(b"a", b"5", lease=7)])
    return store


def holds(store: KVStore, *compares: Compare) -> bool:
    result = one(store, Txn(list(compares)))
    assert isinstance(result, TxnResult)
    return result.succeeded


@pytest.mark.parametrize(
    ("target", "equal", "smaller", "larger"),
    [("value", b"5", b"4", b"6"), ("version", 2, 1, 3), ("create", 1, 0, 2), ("mod", 3, 2, 4), ("lease", 7, 6, 8)],
)
def test_each_compare_target_and_result(store, target, equal, smaller, larger):
    assert holds(store, Compare(b"a", target, "==", equal))
    assert not holds(store, Compare(b"a", target, "==", larger))
    assert holds(store, Compare(b"a", target, "!=", larger))
    assert not holds(store, Compare(b"a", target, "!=", equal))
    assert holds(store, Compare(b"a", target, ">", smaller))
    assert not holds(store, Compare(b"a", target, ">", equal))
    assert holds(store, Compare(b"a", target, "<", larger))
    assert not holds(store, Compare(b"a", target, "<", equal))


def test_missing_key_compares_as_zero_but_never_by_value(store):
    assert holds(store, Compare(b"nope", "version", "==", 0))
    assert holds(store, Compare(b"nope", "create", "==", 0))
    assert not holds(store, Compare(b"nope", "value", "==", b""))
    assert not holds(store, Compare(b"nope", "value", "!=", b"x"))


def test_range_compare_needs_every_key(store):
    assert holds(store, Compare(b"a", "value", ">", b"0", range_end=b"c"))
    assert not holds(store, Compare(b"a", "value", ">", b"3", range_end=b"c"))
    assert holds(store, Compare(b"a", "version", "<", 3, range_end=b"\0"))
    assert holds(store, Compare(b"x", "version", "==", 0, range_end=b"z"))  # no key in range


def test_all_compares_must_hold(store):
    assert holds(store, Compare(b"a", "value", "==", b"5"), Compare(b"b", "value", "==", b"1"))
    assert not holds(store, Compare(b"a", "value", "==", b"5"), Compare(b"b", "value", "==", b"2"))


def test_success_and_failure_branches(store):
    cas = Txn([Compare(b"a", "value", "==", b"5")], [Put(b"a", b"6", lease=7)], [Range(b"a")])
    won = one(store, cas)
    assert won == TxnResult(4, True, [PutResult(4, None)])
    lost = one(store, cas)
    assert not lost.succeeded and lost.revision == 4 and lost.responses[0].kvs[0].value == b"6"
    assert store.revision == 4  # the failure branch only read


def test_txn_changes_share_one_revision_and_nested_reads_see_earlier_writes(store):
    txn = Txn(
        [],
        [Range(b"a"), Put(b"c", b"new"), DeleteRange(b"b", prev_kv=True), Range(b"a", b"\0"), Range(b"b", revision=3)],
    )
    result, events = store.apply([txn])
    before, put, delete, after, at_3 = result[0].responses
    assert store.revision == 4 and all(r.revision == 4 for r in result[0].responses)
    assert [kv.key for kv in before.kvs] == [b"a"]
    assert delete.deleted == 1 and delete.prev_kvs[0].key == b"b"
    assert [kv.key for kv in after.kvs] == [b"a", b"c"]
    assert [kv.key for kv in at_3.kvs] == [b"b"]  # deleted by this txn, but read as of before it
    assert [(e.type.name, e.kv.key, e.kv.mod_revision) for e in events] == [("PUT", b"c", 4), ("DELETE", b"b", 4)]


def test_txn_without_changes_keeps_the_revision(store):
    result = one(store, Txn([], [Range(b"a"), DeleteRange(b"zz")]))
    assert result.revision == 3 and store.revision == 3


def test_a_failing_op_leaves_nothing_applied(store):
    snapshot = store.snapshot()
    result = one(store, Txn([], [Put(b"x", b"1"), DeleteRange(b"a"), Put(b"y", b"1", lease=99)]))
    assert isinstance(result, ErrorResult) and result.code is ErrorCode.LEASE_NOT_FOUND
    assert store.snapshot() == snapshot
    result = one(store, Txn([], [Put(b"x", b"1"), Range(b"a", revision=99)]))
    assert result.code is ErrorCode.FUTURE_REVISION and store.snapshot() == snapshot
    result = one(store, Txn([], [Put(b"x", b"1"), Put(b"nokey", ignore_value=True)]))
    assert result.code is ErrorCode.KEY_NOT_FOUND and store.snapshot() == snapshot


def test_state_checks_only_run_on_the_branch_taken(store):
    result = one(store, Txn([Compare(b"a", "value", "==", b"5")], [Put(b"x", b"1")], [Put(b"y", b"1", lease=99)]))
    assert result.succeeded and store.revision == 4


@pytest.mark.parametrize(
    "ops",
    [
        [Put(b"k", b"1"), Put(b"k", b"2")],
        [Put(b"k", b"1"), DeleteRange(b"k")],
        [DeleteRange(b"j", b"l"), Put(b"k", b"1")],
        [Put(b"k", b"1"), DeleteRange(b"a", b"\0")],
    ],
)
def test_duplicate_or_overlapping_keys_are_rejected_in_either_branch(store, ops):
    snapshot = store.snapshot()
    for txn in (Txn([], ops, []), Txn([], [], ops)):
        result = one(store, txn)
        assert isinstance(result, ErrorResult) and result.code is ErrorCode.DUPLICATE_KEY
    assert store.snapshot() == snapshot


def test_overlapping_deletes_are_allowed(store):
    result = one(store, Txn([], [DeleteRange(b"a", b"c"), DeleteRange(b"a"), Put(b"z", b"1")]))
    assert [r.deleted for r in result.responses[:2]] == [2, 0] and result.revision == 4


@pytest.mark.parametrize(
    "compare",
    [
        Compare(b"a", "size", "==", 1),
        Compare(b"a", "value", "<=", b"1"),
        Compare(b"a", "value", "==", 1),
        Compare(b"a", "version", "==", b"1"),
        Compare(b"", "version", "==", 1),
    ],
)
def test_bad_compares_are_rejected(store, compare):
    result = one(store, Txn([compare], [Put(b"x", b"1")]))
    assert isinstance(result, ErrorResult) and result.code in (ErrorCode.BAD_COMPARE, ErrorCode.KEY_EMPTY)
    assert store.revision == 3


def test_too_many_ops():
    store = KVStore(max_txn_ops=3)
    ok = one(store, Txn([], [Put(b"%d" % i, b"") for i in range(3)]))
    assert ok.succeeded
    for txn in (
        Txn([], [Put(b"%d" % i, b"") for i in range(4)]),
        Txn([], [], [Range(b"a")] * 4),
        Txn([Compare(b"a", "version", "==", 0)] * 4),
    ):
        result = one(store, txn)
        assert isinstance(result, ErrorResult) and result.code is ErrorCode.TOO_MANY_OPS
    assert KVStore().max_txn_ops == 128
