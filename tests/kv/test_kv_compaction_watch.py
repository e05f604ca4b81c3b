"""Compaction (what it keeps, what reads and watches from before it say) and watch events (order, no gap or
duplicate, prev kv, resuming, the events ``apply`` returns)."""

from __future__ import annotations

from kv_helpers import one
from tandemdb.kv import (
    Compact,
    CompactResult,
    DeleteRange,
    ErrorCode,
    ErrorResult,
    Event,
    EventType,
    KeyValue,
    KVStore,
    Put,
    Range,
    Txn,
)


def history() -> KVStore:
    """rev 1 a=1, 2 b=1, 3 a=2, 4 del b, 5 c=1, 6 a=3, 7 del c."""
    store = KVStore()
    for cmd in (Put(b"a", b"1"), Put(b"b", b"1"), Put(b"a", b"2"), DeleteRange(b"b")):
        one(store, cmd)
    for cmd in (Put(b"c", b"1"), Put(b"a", b"3"), DeleteRange(b"c")):
        one(store, cmd)
    return store


def test_compaction_keeps_each_keys_latest_version_at_or_before_it():
    store = history()
    assert one(store, Compact(5)) == CompactResult(7)
    assert store.compact_revision == 5 and store.revision == 7
    at_5 = store.range(Range(b"\0", b"\0", revision=5))
    assert [(kv.key, kv.value) for kv in at_5.kvs] == [(b"a", b"2"), (b"c", b"1")]
    at_6 = store.range(Range(b"\0", b"\0", revision=6))
    assert [(kv.key, kv.value) for kv in at_6.kvs] == [(b"a", b"3"), (b"c", b"1")]
    assert store.stats().versions == 4  # a@3, a@6, c@5, c@7; b (deleted at 4) is gone entirely


def test_reads_before_the_compact_revision_fail_clearly():
    store = history()
    one(store, Compact(5))
    result = store.range(Range(b"a", revision=4))
    assert isinstance(result, ErrorResult) and result.code is ErrorCode.COMPACTED
    assert result.compact_revision == 5 and "compacted" in result.message


def test_compacting_twice_or_in_the_future_fails():
    store = history()
    one(store, Compact(3))
    again = one(store, Compact(3))
    assert again.code is ErrorCode.COMPACTED and again.compact_revision == 3
    assert one(store, Compact(8)).code is ErrorCode.FUTURE_REVISION
    assert one(store, Compact(7)) == CompactResult(7)
    assert [kv.key for kv in store.range(Range(b"\0", b"\0", revision=7)).kvs] == [b"a"]
    assert store.stats().versions == 1


def test_deleted_keys_vanish_from_scans_after_compaction_and_can_be_recreated():
    store = history()
    one(store, Compact(7))
    one(store, Put(b"b", b"new"))
    assert [kv.key for kv in store.range(Range(b"\0", b"\0")).kvs] == [b"a", b"b"]
    assert store.range(Range(b"b")).kvs == [KeyValue(b"b", b"new", 8, 8, 1)]


def test_events_come_in_revision_order_with_prev_kv_on_request():
    store = history()
    events = store.events(1, b"\0", b"\0", prev_kv=True)
    assert [(e.kv.mod_revision, e.type, e.kv.key) for e in events] == [
        (1, EventType.PUT, b"a"),
        (2, EventType.PUT, b"b"),
        (3, EventType.PUT, b"a"),
        (4, EventType.DELETE, b"b"),
        (5, EventType.PUT, b"c"),
        (6, EventType.PUT, b"a"),
        (7, EventType.DELETE, b"c"),
    ]
    assert events[2].prev_kv == KeyValue(b"a", b"1", 1, 1, 1)
    assert events[3].prev_kv == KeyValue(b"b", b"1", 2, 2, 1)
    assert events[0].prev_kv is None
    assert all(e.prev_kv is None for e in store.events(1, b"\0", b"\0"))


def test_events_filter_by_key_range_and_start_revision():
    store = history()
    assert [e.kv.mod_revision for e in store.events(1, b"a")] == [1, 3, 6]
    assert [e.kv.mod_revision for e in store.events(4, b"b", b"d")] == [4, 5, 7]
    assert store.events(8, b"\0", b"\0") == []


def test_watching_from_the_compact_revision_or_before_fails_after_it_works():
    store = history()
    one(store, Compact(5))
    for start in (0, 1, 5):
        result = store.events(start, b"a")
        assert isinstance(result, ErrorResult) and result.code is ErrorCode.COMPACTED
        assert result.compact_revision == 5
    assert [e.kv.mod_revision for e in store.events(6, b"\0", b"\0", prev_kv=True)] == [6, 7]
    assert store.events(6, b"a", prev_kv=True)[0].prev_kv.value == b"2"  # kept by compaction


def test_resuming_with_a_limit_never_splits_a_revision():
    store = KVStore()
    store.apply([Txn([], [Put(b"%d" % i, b"x") for i in range(5)]), Put(b"z", b"1"), Put(b"z", b"2")])
    seen: list[Event] = []
    start = 1
    while batch := store.events(start, b"\0", b"\0", limit=2):
        seen += batch
        start = batch[-1].kv.mod_revision + 1
    assert [(e.kv.key, e.kv.mod_revision) for e in seen] == [(b"%d" % i, 1) for i in range(5)] + [(b"z", 2), (b"z", 3)]
    assert len(store.events(2, b"\0", b"\0", limit=1)) == 1


def test_apply_returns_the_batchs_events_which_match_the_watch_stream():
    store = KVStore()
    all_events = []
    for batch in ([Put(b"a", b"1"), Put(b"b", b"1")], [DeleteRange(b"a", b"c")], [Range(b"a")], [Put(b"a", b"2")]):
        _, events = store.apply(batch)
        all_events += events
    assert all_events == store.events(1, b"\0", b"\0", prev_kv=True)
    put, delete = EventType.PUT, EventType.DELETE
    assert [e.type for e in all_events] == [put, put, delete, delete, put]


def test_apply_returns_events_even_when_a_compaction_in_the_same_batch_drops_them():
    store = KVStore()
    one(store, Put(b"a", b"0"))
    batch = [Put(b"a", b"1"), Put(b"b", b"1"), Compact(3), Put(b"c", b"1"), Compact(4), Put(b"d", b"1")]
    _, events = store.apply(batch)
    assert [(e.kv.key, e.kv.mod_revision) for e in events] == [(b"a", 2), (b"b", 3), (b"c", 4), (b"d", 5)]
    _, events = store.apply([Put(b"e", b"1"), Compact(6)])
    assert [e.kv.key for e in events] == [b"e"]
