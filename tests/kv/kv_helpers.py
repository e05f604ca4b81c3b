"""Shared helpers of the KV state machine tests."""

from tandemdb.kv import KVStore


def one(store: KVStore, cmd):
    """Apply a single command and return its result."""
    results, _ = store.apply([cmd])
    return results[0]
