"""Snapshots: byte-identical for equal states, and restore-then-apply equals apply-all."""

from __future__ import annotations

import pytest

from tandemdb.kv import (
    Compact,
    Compare,
    DeleteRange,
    KeyValue,
    KVStore,
    LeaseGrant,
    LeaseRevoke,
    Put,
    Range,
    Txn,
    decode_batch,
    encode_batch,
)
from tandemdb.kv.snapshot import FORMAT, Snapshot, encode

COMMANDS = [
    LeaseGrant(9, 60),
    LeaseGrant(3, 5),
    Put(b"x", b"1", lease=9),
    Put(b"y", b"1", lease=3),
    Put(b"a", b"1"),
    Txn([Compare(b"x", "version", "==", 1)], [Put(b"x", b"2", lease=9), DeleteRange(b"a"), Range(b"y")]),
    Put(b"z", b"1", lease=3),
    Compact(4),
    Put(b"a", b"2"),
    LeaseRevoke(3),
    DeleteRange(b"x"),
    Put(b"b", b"1", lease=9),
    Compact(7),
    Put(b"c", b"1"),
    Put(b"c", b"2"),
]


def apply_all(cmds) -> KVStore:
    store = KVStore()
    store.apply(cmds)
    return store


@pytest.mark.parametrize("cut", range(len(COMMANDS) + 1))
def test_restore_then_apply_equals_apply_all(cut):
    reference = apply_all(COMMANDS)
    restored = KVStore()
    restored.restore(apply_all(COMMANDS[:cut]).snapshot())
    results, events = restored.apply(COMMANDS[cut:])
    assert restored.snapshot() == reference.snapshot()
    assert restored.leases() == reference.leases()
    assert restored.stats() == reference.stats()
    assert restored.events(8, b"\0", b"\0", prev_kv=True) == reference.events(8, b"\0", b"\0", prev_kv=True)
    assert restored.range(Range(b"\0", b"\0", revision=7)) == reference.range(Range(b"\0", b"\0", revision=7))
    _, expected_events = apply_all(COMMANDS[:cut]).apply(COMMANDS[cut:])
    assert events == expected_events


def test_equal_states_encode_to_equal_bytes_whatever_the_key_order():
    first = apply_all([Put(b"b", b"1"), Put(b"a", b"1")] + [Put(b"k%d" % i, b"") for i in range(100)])
    second = apply_all([Put(b"b", b"1"), Put(b"a", b"1")] + [Put(b"k%d" % i, b"") for i in range(100)])
    second.range(Range(b"\0", b"\0"))  # sorts its pending new keys; not part of the state
    assert first.snapshot() == second.snapshot()


def test_restore_replaces_everything_and_empty_data_means_empty():
    store = apply_all(COMMANDS)
    store.restore(b"")
    assert store.snapshot() == KVStore().snapshot()
    assert store.revision == 0 and store.leases() == []


def test_bad_snapshot_data_raises_and_keeps_the_state():
    store = apply_all(COMMANDS)
    before = store.snapshot()
    with pytest.raises(ValueError):  # msgspec.DecodeError
        store.restore(b"not a snapshot")
    assert store.snapshot() == before


def test_batches_round_trip_through_bytes():
    assert decode_batch(encode_batch(COMMANDS)) == COMMANDS


def test_inconsistent_snapshot_data_raises_and_keeps_the_state():
    store = apply_all(COMMANDS)
    before = store.snapshot()
    orphan = Snapshot(FORMAT, 1, 0, [], [KeyValue(b"k", b"v", 1, 1, 1, lease=77)], [])
    disordered = Snapshot(FORMAT, 2, 0, [], [KeyValue(b"k", b"v", 2, 2, 1), KeyValue(b"j", b"v", 1, 1, 1)], [])
    for bad in (orphan, disordered):
        with pytest.raises(ValueError):
            store.restore(encode(bad))
        assert store.snapshot() == before
