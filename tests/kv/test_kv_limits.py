"""Limits and bad input: clear error results, never exceptions, never partial application."""

from __future__ import annotations

import pytest

from tandemdb.kv import (
    MAX_KEY_BYTES,
    Compact,
    DeleteRange,
    ErrorCode,
    ErrorResult,
    KVStore,
    Put,
    Range,
    Txn,
)


@pytest.mark.parametrize(
    ("cmd", "code"),
    [
        (Put(b"", b"v"), ErrorCode.KEY_EMPTY),
        (Put(b"k" * (MAX_KEY_BYTES + 1), b"v"), ErrorCode.KEY_TOO_LARGE),
        (Put(b"k", b"v" * 101), ErrorCode.VALUE_TOO_LARGE),
        (DeleteRange(b""), ErrorCode.KEY_EMPTY),
        (Range(b""), ErrorCode.KEY_EMPTY),
        (Range(b"k", limit=-1), ErrorCode.BAD_ARGUMENT),
        (Txn([], [Put(b"a", b"1"), Put(b"k", b"v" * 101)]), ErrorCode.VALUE_TOO_LARGE),
        (Txn([], [Put(b"a", b"1")], [Put(b"", b"1")]), ErrorCode.KEY_EMPTY),
        (Compact(0), ErrorCode.BAD_ARGUMENT),
        (Compact(99), ErrorCode.FUTURE_REVISION),
        ("put k v", ErrorCode.UNKNOWN_COMMAND),
    ],
)
def test_bad_commands_are_rejected_whole(cmd, code):
    store, untouched = KVStore(max_value_bytes=100), KVStore(max_value_bytes=100)
    store.apply([Put(b"a", b"0")])
    untouched.apply([Put(b"a", b"0"), Put(b"after", b"1")])
    results, events = store.apply([cmd, Put(b"after", b"1")])
    assert isinstance(results[0], ErrorResult) and results[0].code is code and results[0].revision == 1
    assert results[0].message
    assert [e.kv.key for e in events] == [b"after"]  # the batch goes on
    assert store.snapshot() == untouched.snapshot()  # no trace of the rejected command


def test_size_limits_are_inclusive_and_the_value_limit_is_configurable():
    store = KVStore(max_value_bytes=10)
    results, _ = store.apply([Put(b"k" * MAX_KEY_BYTES, b"v" * 10), Put(b"k", b"v" * 11)])
    assert results[0].revision == 1 and results[1].code is ErrorCode.VALUE_TOO_LARGE
    assert KVStore().max_value_bytes == 1 << 20
