"""Compaction: whole segments are deleted once no group needs any record in them, and nothing still needed."""

from __future__ import annotations

from tandemdb.raft.types import ConfState, HardState, Snapshot, SnapshotMeta
from wal_harness import DATA, entries, open_node, states


def wal_files(disk) -> list[str]:
    return disk.list_dir(f"{DATA}/wal")


def test_compaction_deletes_segments_no_group_needs(sim_disk):
    node = open_node(sim_disk, segment_size=4096)
    for i in range(40):  # ~40 KiB of entries over three groups: about ten segments
        for group in range(3):
            node.group(group).append(entries(group, i * 5 + 1, 5, size=60))
        node.sync()
    assert len(wal_files(sim_disk)) >= 8

    node.group(0).compact(190)
    node.group(1).compact(190)
    node.sync()
    assert len(wal_files(sim_disk)) >= 8, "group 2 still needs every segment"

    node.group(2).compact(150)
    node.sync()
    node.sync()  # the first sync rewrites what pins old segments, the deletion follows once that is durable
    assert len(wal_files(sim_disk)) <= 4  # what holds group 2's entries 151..200, and the active segment
    before = states(node)
    node.close()
    assert states(open_node(sim_disk, segment_size=4096)) == before


def test_quiet_groups_do_not_pin_old_segments(sim_disk):
    """A group that only wrote a hard state long ago gets it rewritten, so the old segments can go."""
    node = open_node(sim_disk, segment_size=4096)
    node.group(1).set_hard_state(HardState(term=3, vote=1, commit=0))
    node.group(2)  # exists, never writes
    node.sync()
    busy = node.group(7)
    for i in range(60):
        busy.append(entries(7, i * 4 + 1, 4, size=80))
        node.sync()
        if i % 10 == 9:
            busy.compact(busy.last_index() - 2)
            node.sync()
    assert len(wal_files(sim_disk)) <= 3
    before = states(node)
    node.close()
    reopened = open_node(sim_disk, segment_size=4096)
    assert states(reopened) == before
    assert reopened.group(1).hard_state == HardState(term=3, vote=1, commit=0)


def test_a_snapshot_lets_the_log_go_and_replaces_the_previous_snapshot_file(sim_disk):
    node = open_node(sim_disk, segment_size=4096)
    gs = node.group(5)
    for i in range(30):
        gs.append(entries(5, i * 5 + 1, 5, size=60))
        node.sync()
    gs.create_snapshot(100, ConfState(voters=(1, 2, 3)), b"first")
    gs.compact(100)
    node.sync()
    gs.create_snapshot(140, ConfState(voters=(1, 2, 3)), b"second")
    gs.compact(140)
    node.sync()
    node.sync()
    assert sim_disk.list_dir(f"{DATA}/snap") == ["0000000000000005-0000000000000001-000000000000008c.snap"]
    assert len(wal_files(sim_disk)) <= 2
    before = states(node)
    node.close()
    reopened = open_node(sim_disk, segment_size=4096)
    assert states(reopened) == before
    assert reopened.group(5).snapshot().data == b"second"


def test_installing_a_snapshot_releases_the_whole_log(sim_disk):
    node = open_node(sim_disk, segment_size=4096)
    gs = node.group(2)
    for i in range(30):
        gs.append(entries(2, i * 5 + 1, 5, size=60))
        node.sync()
    gs.apply_snapshot(Snapshot(SnapshotMeta(1000, 9, ConfState(voters=(1, 2))), b"from the leader"))
    gs.append(entries(2, 1001, 3, term=9))
    node.sync()
    node.sync()
    assert len(wal_files(sim_disk)) <= 2
    before = states(node)
    node.close()
    reopened = open_node(sim_disk, segment_size=4096).group(2)
    assert (reopened.first_index(), reopened.last_index()) == (1001, 1003)
    assert states(open_node(sim_disk, segment_size=4096)) == before
