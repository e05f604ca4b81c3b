"""Idempotency by (client_id, seq): a retried write is applied once and answers with the first result."""

from __future__ import annotations

import msgspec

from tandemdb.kv import (
    Compact,
    Compare,
    DeleteRange,
    ErrorCode,
    KVStore,
    LeaseGrant,
    Put,
    PutResult,
    Range,
    SessionSweep,
    Txn,
)
from tandemdb.kv import snapshot as snap

from kv_helpers import one



def test_a_retried_put_is_applied_once_and_returns_the_same_result():
    store = KVStore()
    first, events = store.apply([Put(b"k", b"v", client_id=7, seq=1)])
    retry, retry_events = store.apply([Put(b"k", b"v", client_id=7, seq=1)])
    assert first == retry == [PutResult(1, None)]
    assert len(events) == 1 and retry_events == []
    assert store.revision == 1 and store.range(Range(b"k")).kvs[0].version == 1


def test_a_retry_answers_with_the_original_result_even_after_later_writes():
    store = KVStore()
    txn = Txn([Compare(b"k", "version", "==", 0)], [Put(b"k", b"1")], [Range(b"k")], client_id=3, seq=10)
    first = one(store, txn)
    one(store, Put(b"k", b"2"))
    assert one(store, txn) == first and first.succeeded  # not re-evaluated into the failure branch
    assert store.range(Range(b"k")).kvs[0].value == b"2"


def test_an_older_seq_is_a_clear_error_and_a_newer_one_applies():
    store = KVStore()
    one(store, DeleteRange(b"x", client_id=1, seq=5))
    stale = one(store, Put(b"k", b"v", client_id=1, seq=4))
    assert stale.code is ErrorCode.STALE_SEQ and "seq 4" in stale.message and store.revision == 0
    assert one(store, Put(b"k", b"v", client_id=1, seq=9)) == PutResult(1, None)


def test_clients_are_independent_and_client_zero_opts_out():
    store = KVStore()
    store.apply([Put(b"k", b"a", client_id=1, seq=1), Put(b"k", b"b", client_id=2, seq=1)])
    store.apply([Put(b"k", b"c"), Put(b"k", b"c")])
    assert store.revision == 4


def test_rejected_commands_are_remembered_too():
    store = KVStore()
    failed = one(store, Put(b"k", b"v", lease=5, client_id=1, seq=1))
    one(store, LeaseGrant(5, 10))
    assert one(store, Put(b"k", b"v", lease=5, client_id=1, seq=1)) == failed
    assert store.revision == 0


def test_every_write_command_is_idempotent():
    store = KVStore()
    store.apply([Put(b"k", b"v"), Put(b"k", b"w")])
    for cmd in (LeaseGrant(1, 10, client_id=4, seq=1), Compact(1, client_id=4, seq=2)):
        assert one(store, cmd) == one(store, cmd)  # a repeat would fail as "exists" / "compacted"
    assert store.stats().clients == 1


def sweep(store: KVStore, times: int = 1) -> list[int]:
    return [one(store, SessionSweep()).forgotten for _ in range(times)]


def test_a_client_idle_for_three_sweeps_is_forgotten_and_a_busy_one_is_kept():
    store = KVStore()
    one(store, Put(b"k", b"1", client_id=1, seq=1))
    one(store, Put(b"k", b"2", client_id=2, seq=1))
    assert sweep(store, 2) == [0, 0]
    one(store, Put(b"k", b"3", client_id=2, seq=2))  # client 2 writes again in the second epoch
    assert sweep(store) == [1]  # the third sweep: client 1 was last seen three epochs ago
    assert store.stats().clients == 1
    assert sweep(store, 2) == [0, 1]  # client 2 last wrote in epoch 2: two whole epochs (3 and 4) without it
    assert store.stats().clients == 0
    assert store.revision == 3  # sweeps change no key and take no revision


def test_a_forgotten_client_starts_a_new_record_with_its_next_seq():
    store = KVStore()
    one(store, Put(b"k", b"1", client_id=1, seq=1))
    sweep(store, 3)
    assert one(store, Put(b"k", b"2", client_id=1, seq=2)) == PutResult(2, None)
    assert one(store, Put(b"k", b"2", client_id=1, seq=2)) == PutResult(2, None)  # deduplicated again
    assert store.revision == 2


def test_session_epochs_survive_a_snapshot_and_old_snapshots_still_load():
    store = KVStore()
    one(store, Put(b"k", b"1", client_id=1, seq=1))
    sweep(store, 2)
    one(store, Put(b"k", b"2", client_id=2, seq=1))
    copy = KVStore()
    copy.restore(store.snapshot())
    assert copy.snapshot() == store.snapshot()
    assert sweep(copy) == sweep(store) == [1]  # client 1 goes in both, client 2 stays in both
    assert copy.snapshot() == store.snapshot()

    old = snap.decode(store.snapshot())  # the format before sweeps: no epochs at all
    sessions = [[s.client_id, s.seq, s.result] for s in old.sessions]
    legacy = msgspec.msgpack.encode([old.format, old.revision, old.compact_revision, old.base, old.log, old.leases, sessions])
    restored = KVStore()
    restored.restore(legacy)
    assert restored.stats().clients == 1
    assert sweep(restored, 3) == [0, 0, 1]
