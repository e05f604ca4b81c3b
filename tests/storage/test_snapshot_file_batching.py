"""Snapshot files travel in the write batch: nothing touches the disk when the core takes a snapshot; the batch
writer (the commit thread, in the server) writes and syncs the file before the records that point at it."""

from __future__ import annotations

from tandemdb.raft.types import ConfState
from wal_harness import DATA, entries, open_node, states


def test_a_snapshot_file_is_written_with_its_batch_not_when_taken(sim_disk):
    node = open_node(sim_disk)
    node.group(1).append(entries(1, 1, 10))
    node.sync()
    node.group(1).create_snapshot(5, ConfState(voters=(1,)), b"state")
    assert sim_disk.list_dir(f"{DATA}/snap") == []  # taken in memory only
    batch = node.take_batch()
    assert [(group, snap.meta.index) for _, group, snap in batch.snapshots] == [(1, 5)]
    node.commit(batch)
    assert len(sim_disk.list_dir(f"{DATA}/snap")) == 1
    before = states(node)
    node.close()
    assert states(open_node(sim_disk)) == before


def test_a_crash_before_the_batch_is_written_loses_the_snapshot_cleanly(sim_disk):
    node = open_node(sim_disk)
    node.group(1).append(entries(1, 1, 10))
    node.sync()
    before = states(node)
    node.group(1).create_snapshot(5, ConfState(voters=(1,)), b"state")
    sim_disk.crash(tear=False)
    assert states(open_node(sim_disk)) == before
