"""Puts, reads and deletes: ranges by key, prefix and end, limit / count_only / keys_only, filters, revisions,
versions and generations, reads at past revisions."""

from __future__ import annotations

from kv_helpers import one
from tandemdb.kv import (
    DeleteRange,
    DeleteRangeResult,
    ErrorCode,
    ErrorResult,
    KeyValue,
    KVStore,
    Put,
    PutResult,
    Range,
    RangeResult,
    prefix_end,
)


def keys(result: RangeResult) -> list[bytes]:
    return [kv.key for kv in result.kvs]


def filled() -> KVStore:
    store = KVStore()
    store.apply([Put(k, k.upper()) for k in (b"a", b"ab", b"abc", b"b", b"ba", b"c", b"\xff", b"\xff\xff")])
    return store


def test_put_then_get_returns_value_and_header_revision():
    store = KVStore()
    assert one(store, Put(b"k", b"v")) == PutResult(1, None)
    result = store.range(Range(b"k"))
    assert result == RangeResult(1, [KeyValue(b"k", b"v", 1, 1, 1)], 1, False)
    assert store.range(Range(b"missing")) == RangeResult(1, [], 0, False)


def test_range_single_key_end_key_all_from_key_and_prefix():
    store = filled()
    assert keys(store.range(Range(b"ab"))) == [b"ab"]
    assert keys(store.range(Range(b"ab", b"b"))) == [b"ab", b"abc"]
    assert keys(store.range(Range(b"b", b"\0"))) == [b"b", b"ba", b"c", b"\xff", b"\xff\xff"]
    assert keys(store.range(Range(b"\0", b"\0"))) == [b"a", b"ab", b"abc", b"b", b"ba", b"c", b"\xff", b"\xff\xff"]
    assert keys(store.range(Range(b"a", prefix_end(b"a")))) == [b"a", b"ab", b"abc"]
    assert keys(store.range(Range(b"\xff", prefix_end(b"\xff")))) == [b"\xff", b"\xff\xff"]
    assert keys(store.range(Range(b"c", b"a"))) == []  # end before start: empty


def test_prefix_end():
    assert prefix_end(b"a") == b"b"
    assert prefix_end(b"a\xff") == b"b"
    assert prefix_end(b"\xff\xff") == b"\0"


def test_limit_count_only_keys_only():
    store = filled()
    limited = store.range(Range(b"a", b"b", limit=2))
    assert keys(limited) == [b"a", b"ab"] and limited.count == 3 and limited.more
    assert not store.range(Range(b"a", b"b", limit=3)).more
    counted = store.range(Range(b"a", b"b", count_only=True))
    assert counted.kvs == [] and counted.count == 3 and not counted.more
    bare = store.range(Range(b"a", b"b", keys_only=True))
    assert keys(bare) == [b"a", b"ab", b"abc"] and all(kv.value == b"" and kv.version == 1 for kv in bare.kvs)
    assert store.range(Range(b"a")).kvs[0].value == b"A"  # keys_only did not strip the stored value


def test_mod_and_create_revision_filters_apply_before_limit():
    store = KVStore()
    store.apply([Put(b"a", b"1"), Put(b"b", b"1"), Put(b"c", b"1"), Put(b"a", b"2")])
    newer = store.range(Range(b"a", b"\0", min_mod_revision=3))
    assert keys(newer) == [b"a", b"c"] and newer.count == 2
    assert keys(store.range(Range(b"a", b"\0", max_mod_revision=2))) == [b"b"]
    assert keys(store.range(Range(b"a", b"\0", min_create_revision=2, limit=1))) == [b"b"]
    assert keys(store.range(Range(b"a", b"\0", max_create_revision=1))) == [b"a"]


def test_revision_version_create_and_mod_across_delete_and_recreate():
    store = KVStore()
    store.apply([Put(b"k", b"1"), Put(b"other", b"x"), Put(b"k", b"2")])
    assert store.range(Range(b"k")).kvs == [KeyValue(b"k", b"2", 1, 3, 2)]
    assert one(store, DeleteRange(b"k")) == DeleteRangeResult(4, 1, [])
    assert store.range(Range(b"k")).kvs == []
    one(store, Put(b"k", b"3"))
    assert store.range(Range(b"k")).kvs == [KeyValue(b"k", b"3", 5, 5, 1)]  # a new generation
    assert store.revision == 5


def test_every_put_bumps_the_revision_even_with_the_same_value():
    store = KVStore()
    store.apply([Put(b"k", b"v"), Put(b"k", b"v")])
    assert store.revision == 2 and store.range(Range(b"k")).kvs[0].version == 2


def test_range_at_past_revisions():
    store = KVStore()
    store.apply([Put(b"a", b"1"), Put(b"b", b"1"), Put(b"a", b"2"), DeleteRange(b"b"), Put(b"b", b"3")])
    at = {rev: [(kv.key, kv.value) for kv in store.range(Range(b"a", b"\0", revision=rev)).kvs] for rev in range(1, 6)}
    assert at == {
        1: [(b"a", b"1")],
        2: [(b"a", b"1"), (b"b", b"1")],
        3: [(b"a", b"2"), (b"b", b"1")],
        4: [(b"a", b"2")],
        5: [(b"a", b"2"), (b"b", b"3")],
    }
    old = store.range(Range(b"a", revision=2))
    assert old.revision == 5 and old.kvs == [KeyValue(b"a", b"1", 1, 1, 1)]


def test_range_at_a_future_revision_is_an_error():
    store = KVStore()
    one(store, Put(b"a", b"1"))
    result = store.range(Range(b"a", revision=2))
    assert isinstance(result, ErrorResult) and result.code is ErrorCode.FUTURE_REVISION


def test_delete_one_key_with_prev_kv():
    store = filled()
    result = one(store, DeleteRange(b"ab", prev_kv=True))
    assert result == DeleteRangeResult(9, 1, [KeyValue(b"ab", b"AB", 2, 2, 1)])
    assert keys(store.range(Range(b"a", b"b"))) == [b"a", b"abc"]


def test_delete_range_and_prefix_in_one_revision():
    store = filled()
    result = one(store, DeleteRange(b"a", prefix_end(b"a"), prev_kv=True))
    assert result.deleted == 3 and [kv.key for kv in result.prev_kvs] == [b"a", b"ab", b"abc"]
    assert store.revision == 9
    assert one(store, DeleteRange(b"b", b"c")).deleted == 2
    assert one(store, DeleteRange(b"\xff", b"\0")).deleted == 2
    assert keys(store.range(Range(b"\0", b"\0"))) == [b"c"]
    assert store.revision == 11


def test_delete_of_nothing_keeps_the_revision():
    store = filled()
    assert one(store, DeleteRange(b"zzz")) == DeleteRangeResult(8, 0, [])
    assert one(store, DeleteRange(b"ab")).deleted == 1
    assert one(store, DeleteRange(b"ab")) == DeleteRangeResult(9, 0, [])
    assert store.revision == 9


def test_range_through_apply_reads_the_latest_state():
    store = filled()
    results, events = store.apply([Put(b"a", b"new"), Range(b"a")])
    assert results[1].kvs[0].value == b"new" and results[1].revision == 9 and len(events) == 1


def test_stats_counts_live_keys_versions_and_bytes():
    store = KVStore()
    store.apply([Put(b"ab", b"123"), Put(b"ab", b"4"), Put(b"c", b""), DeleteRange(b"c")])
    stats = store.stats()
    assert (stats.keys, stats.versions, stats.revision) == (1, 4, 4)
    assert stats.approx_bytes == (2 + 3) + (2 + 1) + 1 + 1
