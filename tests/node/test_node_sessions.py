"""Client sessions live in the replication layer: every state machine gets exactly-once retries by
``(client_id, seq)``, the table is replicated (snapshots carry it), bounded by sweeps, and a retry never applies
twice, even when it lands in the same entry as the original."""

from __future__ import annotations

import pytest

from tandemdb.counter import CounterAdd, CounterGet, CounterResult
from tandemdb.kv import Compact, Compare, DeleteRange, ErrorResult, LeaseGrant, Put, PutResult, Range, Result, Txn
from tandemdb.node.sessions import SessionTable
from tandemdb.wire.client_api import Error, ErrorKind

from .cluster import Cluster


def test_a_retry_gets_the_stored_result_and_an_older_seq_is_refused() -> None:
    table = SessionTable(Result)
    assert table.replay(7, 1) is None
    table.record(7, 1, PutResult(1, None))
    assert table.replay(7, 1) == PutResult(1, None)
    stale = table.replay(7, 0)
    assert isinstance(stale, Error) and stale.kind == ErrorKind.STALE_SEQ and "seq 0" in stale.message
    assert table.replay(7, 2) is None and table.replay(8, 1) is None  # a new seq, another client


def test_recording_an_older_seq_breaks_an_invariant() -> None:
    table = SessionTable(Result)
    table.record(1, 5, PutResult(1, None))
    with pytest.raises(AssertionError):
        table.record(1, 4, PutResult(2, None))


def test_a_client_idle_for_three_sweeps_is_forgotten_and_a_busy_one_is_kept() -> None:
    table = SessionTable(Result)
    table.record(1, 1, PutResult(1, None))
    table.record(2, 1, PutResult(2, None))
    assert [table.sweep(), table.sweep()] == [0, 0]
    table.record(2, 2, PutResult(3, None))  # client 2 writes again in the second epoch
    assert table.sweep() == 1  # the third sweep: client 1 was last seen three epochs ago
    assert len(table) == 1
    assert [table.sweep(), table.sweep()] == [0, 1]
    assert len(table) == 0


def test_the_table_survives_a_snapshot_byte_for_byte() -> None:
    table = SessionTable(Result)
    table.record(1, 3, PutResult(1, None))
    table.sweep()
    table.record(2, 1, ErrorResult(1, "lease_not_found", "lease 5 not found"))
    copy = SessionTable(Result)
    copy.restore(table.snapshot())
    assert copy.snapshot() == table.snapshot()
    assert copy.replay(2, 1) == table.replay(2, 1) and copy.epoch == 1


def _retry_everywhere(c: Cluster, op, session: dict) -> list:
    lead = c.leader()
    first = c.call(lead, op, **session)
    again = c.call(lead, op, **session)
    return [first, again]


@pytest.mark.parametrize(
    "op",
    [Put(b"k", b"v"), DeleteRange(b"k"), LeaseGrant(9, 60),
     Txn([Compare(b"k", "version", "==", 0)], [Put(b"k", b"1")], [Range(b"k")])],
)
def test_every_kv_write_applies_once_when_retried(op) -> None:
    c = Cluster()
    first, again = _retry_everywhere(c, op, {"client_id": 4, "seq": 1})
    assert again == first and not isinstance(first, Error)  # a repeat would have failed ("exists", ...)


def test_a_rejected_write_is_remembered_too() -> None:
    c = Cluster()
    lead = c.leader()
    failed = c.call(lead, Put(b"k", b"v", lease=5), client_id=1, seq=1)
    c.call(lead, LeaseGrant(5, 10))
    assert c.call(lead, Put(b"k", b"v", lease=5), client_id=1, seq=1) == failed  # not applied late
    assert c.call(lead, Compact(1), client_id=1, seq=2) == c.call(lead, Compact(1), client_id=1, seq=2)


def test_the_counter_machine_gets_sessions_for_free() -> None:
    c = Cluster(state_machine="counter")
    lead = c.leader()
    assert c.call(lead, CounterAdd(b"n", 5), client_id=3, seq=1) == CounterResult(b"n", 5)
    assert c.call(lead, CounterAdd(b"n", 5), client_id=3, seq=1) == CounterResult(b"n", 5)  # the retry
    assert c.call(lead, CounterAdd(b"n", 1), client_id=3, seq=2) == CounterResult(b"n", 6)
    c.settle()
    for node_id in c.nodes:  # replicated: every replica holds the same value and the same session table
        assert c.call(node_id, CounterGet(b"n")) == CounterResult(b"n", 6)
    tables = {n.groups[1].sessions.snapshot() for n in c.nodes.values()}
    assert len(tables) == 1


def test_a_retry_in_the_same_entry_as_its_original_applies_once() -> None:
    """Both copies are queued in one loop turn, so they share one entry: the second must see the first's record."""
    c = Cluster(state_machine="counter")
    lead = c.leader()
    first = c.send(lead, CounterAdd(b"n", 1), client_id=9, seq=1)
    second = c.send(lead, CounterAdd(b"n", 1), client_id=9, seq=1)
    c.settle()
    assert c.reply_to(first) == c.reply_to(second) == CounterResult(b"n", 1)
    assert c.call(lead, CounterGet(b"n")).value == 1


def test_with_the_duplicate_retry_bug_a_retry_applies_twice() -> None:
    c = Cluster(state_machine="counter", bugs=frozenset({"duplicate_retry"}))
    lead = c.leader()
    c.call(lead, CounterAdd(b"n", 1), client_id=9, seq=1)
    c.call(lead, CounterAdd(b"n", 1), client_id=9, seq=1)
    assert c.call(lead, CounterGet(b"n")).value == 2


def test_a_restarted_node_replays_sessions_from_its_snapshot() -> None:
    c = Cluster(snapshot_every=3, keep_entries=0)
    lead = c.leader()
    first = c.call(lead, Put(b"k", b"v"), client_id=5, seq=1)
    for i in range(6):
        c.call(lead, Put(b"x%d" % i, b"v"))
    c.settle()
    c.restart(lead)
    new = c.leader()
    assert c.call(new, Put(b"k", b"v"), client_id=5, seq=1) == first
