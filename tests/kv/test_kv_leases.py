"""Leases: grant, attach, revoke (all keys in one revision), moving keys between leases, unknown leases."""

from __future__ import annotations

from kv_helpers import one
from tandemdb.kv import (
    DeleteRange,
    ErrorCode,
    ErrorResult,
    EventType,
    KVStore,
    LeaseGrant,
    LeaseGrantResult,
    LeaseInfo,
    LeaseRevoke,
    LeaseRevokeResult,
    Put,
    Range,
    Txn,
)


def test_grant_does_not_change_the_revision():
    store = KVStore()
    one(store, Put(b"a", b"1"))
    assert one(store, LeaseGrant(5, 30)) == LeaseGrantResult(1, 5, 30)
    assert store.revision == 1
    assert store.leases() == [LeaseInfo(5, 30, [])]
    assert store.lease(5) == LeaseInfo(5, 30, []) and store.lease(6) is None


def test_grant_rejects_existing_ids_and_bad_ttls():
    store = KVStore()
    one(store, LeaseGrant(5, 30))
    assert one(store, LeaseGrant(5, 60)).code is ErrorCode.LEASE_EXISTS
    for bad in (LeaseGrant(0, 30), LeaseGrant(-1, 30), LeaseGrant(6, 0), LeaseGrant(6, -5)):
        assert one(store, bad).code is ErrorCode.BAD_ARGUMENT
    assert store.leases() == [LeaseInfo(5, 30, [])]


def test_put_attaches_and_revoke_deletes_every_key_in_one_revision():
    store = KVStore()
    store.apply([LeaseGrant(1, 10), LeaseGrant(2, 10), Put(b"b", b"1", lease=1), Put(b"a", b"1", lease=1)])
    store.apply([Put(b"c", b"1", lease=2), Put(b"d", b"1")])
    assert store.leases() == [LeaseInfo(1, 10, [b"a", b"b"]), LeaseInfo(2, 10, [b"c"])]
    assert store.range(Range(b"a")).kvs[0].lease == 1
    results, events = store.apply([LeaseRevoke(1)])
    assert results == [LeaseRevokeResult(5)] and store.revision == 5
    assert [(e.type, e.kv.key, e.kv.mod_revision, e.prev_kv.lease) for e in events] == [
        (EventType.DELETE, b"a", 5, 1),
        (EventType.DELETE, b"b", 5, 1),
    ]
    assert [kv.key for kv in store.range(Range(b"\0", b"\0")).kvs] == [b"c", b"d"]
    assert store.leases() == [LeaseInfo(2, 10, [b"c"])]


def test_revoking_a_lease_without_keys_keeps_the_revision():
    store = KVStore()
    store.apply([LeaseGrant(1, 10), Put(b"a", b"1")])
    assert one(store, LeaseRevoke(1)) == LeaseRevokeResult(1)
    assert one(store, LeaseRevoke(1)).code is ErrorCode.LEASE_NOT_FOUND


def test_reput_moves_a_key_between_leases_or_off_them():
    store = KVStore()
    store.apply([LeaseGrant(1, 10), LeaseGrant(2, 20), Put(b"k", b"1", lease=1)])
    one(store, Put(b"k", b"2", lease=2))
    assert store.leases() == [LeaseInfo(1, 10, []), LeaseInfo(2, 20, [b"k"])]
    one(store, LeaseRevoke(1))
    assert store.range(Range(b"k")).kvs[0].value == b"2"  # moved away: not deleted with lease 1
    one(store, Put(b"k", b"3"))
    assert store.leases() == [LeaseInfo(2, 20, [])]
    one(store, LeaseRevoke(2))
    assert store.range(Range(b"k")).kvs[0].value == b"3"


def test_ignore_lease_keeps_the_lease_and_ignore_value_keeps_the_value():
    store = KVStore()
    store.apply([LeaseGrant(1, 10), Put(b"k", b"v", lease=1)])
    one(store, Put(b"k", b"w", ignore_lease=True))
    one(store, Put(b"k", ignore_value=True, lease=1))
    kv = store.range(Range(b"k")).kvs[0]
    assert (kv.value, kv.lease, kv.version) == (b"w", 1, 3)
    assert one(store, Put(b"missing", ignore_value=True)).code is ErrorCode.KEY_NOT_FOUND
    assert one(store, Put(b"k", b"x", ignore_value=True)).code is ErrorCode.BAD_ARGUMENT
    assert one(store, Put(b"k", ignore_lease=True, lease=1)).code is ErrorCode.BAD_ARGUMENT


def test_put_with_an_unknown_lease_fails_and_changes_nothing():
    store = KVStore()
    result = one(store, Put(b"k", b"v", lease=42))
    assert isinstance(result, ErrorResult) and result.code is ErrorCode.LEASE_NOT_FOUND
    assert "lease 42 not found" in result.message
    assert store.revision == 0 and store.range(Range(b"k")).kvs == []
    assert one(store, Txn([], [Put(b"k", b"v", lease=42)])).code is ErrorCode.LEASE_NOT_FOUND


def test_deleted_keys_leave_their_lease():
    store = KVStore()
    store.apply([LeaseGrant(1, 10), Put(b"a", b"1", lease=1), Put(b"b", b"1", lease=1), DeleteRange(b"a")])
    assert store.leases() == [LeaseInfo(1, 10, [b"b"])]
    one(store, Put(b"a", b"2"))
    _, events = store.apply([LeaseRevoke(1)])
    assert [e.kv.key for e in events] == [b"b"]
