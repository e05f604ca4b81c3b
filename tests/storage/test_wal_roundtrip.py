"""Round trips through the node's log: what groups write is what a reopened node reads back."""

from __future__ import annotations

import random

import pytest

from tandemdb.raft.storage import CompactedError, MemoryStorage, UnavailableError
from tandemdb.raft.types import ConfState, Entry, HardState, Snapshot, SnapshotMeta
from tandemdb.storage import RealDisk
from wal_harness import apply, entries, open_node, payload, random_op, state, states


def test_many_groups_round_trip(sim_disk):
    node = open_node(sim_disk, segment_size=16 << 10)
    rng = random.Random(7)
    for group in range(50):
        gs = node.group(group)
        gs.save(HardState(term=2, vote=group % 3 + 1, commit=3), entries(group, 1, rng.randint(1, 30), term=2))
    node.sync()
    before = states(node)
    node.close()

    reopened = open_node(sim_disk, segment_size=16 << 10)
    assert reopened.group_ids() == list(range(50))
    assert states(reopened) == before
    assert reopened.group(7).entries(1, 2)[0].data == payload(7, 1, 2)


def test_round_trip_on_the_real_disk(tmp_path):
    path = str(tmp_path / "node")
    node = open_node(RealDisk(), path, segment_size=8192)
    for group in (1, 2, 3):
        node.group(group).save(HardState(1, 1, 1), entries(group, 1, 100))  # spans several segments
    node.group(2).create_snapshot(50, ConfState(voters=(1, 2, 3)), b"state at 50")
    node.group(2).compact(40)
    node.sync()
    before = states(node)
    node.close()

    assert states(open_node(RealDisk(), path, segment_size=8192)) == before


def test_reads_follow_the_storage_protocol(sim_disk):
    node = open_node(sim_disk)
    gs = node.group(1)
    gs.append(entries(1, 1, 10))
    gs.compact(4)
    node.sync()
    gs = open_node(sim_disk).group(1)
    assert (gs.first_index(), gs.last_index(), gs.term(4)) == (5, 10, 1)
    with pytest.raises(CompactedError):
        gs.entries(4, 6)
    with pytest.raises(UnavailableError):
        gs.entries(5, 12)
    assert [e.index for e in gs.entries(5, 11, max_bytes=100)] == [5, 6]  # limit_size: 40-byte entries


def test_appending_at_an_index_truncates_the_conflicting_suffix(sim_disk):
    node = open_node(sim_disk)
    gs = node.group(3)
    gs.append(entries(3, 1, 10, term=1))
    node.sync()
    gs.append(entries(3, 6, 2, term=2))  # a new leader overwrites 6..10 with 6..7
    node.sync()
    gs.append(entries(3, 4, 1, term=3))  # and another one from 4, in the same sync as more entries
    gs.append(entries(3, 5, 3, term=3))
    node.sync()
    expected = [(1, 1), (2, 1), (3, 1), (4, 3), (5, 3), (6, 3), (7, 3)]
    assert [(e.index, e.term) for e in gs.entries(1, 8)] == expected

    reopened = open_node(sim_disk).group(3)
    assert [(e.index, e.term) for e in reopened.entries(1, reopened.last_index() + 1)] == expected


def test_matches_memory_storage_under_random_writes(sim_disk):
    """The durable storage behaves exactly like MemoryStorage, before and after reopening."""
    rng = random.Random(11)
    node = open_node(sim_disk, segment_size=2048)
    models = {g: MemoryStorage() for g in range(4)}
    for step in range(400):
        op = random_op(rng, models, step)
        apply(node, op)
        apply(models, op)
        if rng.random() < 0.3:
            node.sync()
        assert state(node.group(op[0])) == state(models[op[0]])
    node.sync()
    node.close()
    reopened = open_node(sim_disk, segment_size=2048)
    for group, model in models.items():
        assert state(reopened.group(group)) == state(model), group


def test_save_persists_a_ready_in_order(sim_disk):
    node = open_node(sim_disk)
    gs = node.group(9)
    snap = Snapshot(SnapshotMeta(20, 3, ConfState(voters=(1, 2, 3))), b"leader's state")
    gs.save(HardState(4, 2, 20), [Entry(4, 21, 0, b"a"), Entry(4, 22, 0, b"b")], snap)
    node.sync()
    reopened = open_node(sim_disk).group(9)
    assert reopened.initial_state() == (HardState(4, 2, 20), ConfState(voters=(1, 2, 3)))
    assert (reopened.first_index(), reopened.last_index(), reopened.snapshot()) == (21, 22, snap)
