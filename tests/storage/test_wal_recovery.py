"""Recovery: a torn tail is truncated, any other damage stops the node with a clear error, and nothing is skipped."""

from __future__ import annotations

import struct

import pytest
from crc32c import crc32c

from tandemdb.raft.types import ConfState, HardState
from tandemdb.storage import (
    ClusterIdMismatchError,
    CorruptionError,
    NodeIdMismatchError,
    NodeStorage,
    RealDisk,
    SnapshotCorruptError,
    UnsupportedVersionError,
)
from tandemdb.storage.record import HEADER, RecordKind
from wal_harness import CLUSTER, DATA, NODE, entries, open_node, overwrite, records, segment_paths, states


def three_synced_batches(disk, path=DATA, segment_size=1 << 16) -> NodeStorage:
    node = open_node(disk, path, segment_size=segment_size)
    for batch in range(3):
        for group in (1, 2):
            node.group(group).append(entries(group, batch * 4 + 1, 4))
        node.group(1).set_hard_state(HardState(term=1, vote=1, commit=batch * 4))
        node.sync()
    return node


@pytest.mark.parametrize("kept", [3, HEADER.size + 10, -1], ids=["torn-header", "torn-payload", "no-end-mark"])
def test_a_torn_tail_is_truncated_and_the_log_stays_appendable(sim_disk, kept):
    node = three_synced_batches(sim_disk)
    node.group(2).append(entries(2, 13, 4))
    node.sync()
    node.close()
    [segment] = segment_paths(sim_disk)
    offset, kind, group, length = records(sim_disk, segment)[-1]
    assert (kind, group) == (RecordKind.ENTRIES, 2)
    kept = kept % length
    overwrite(sim_disk, segment, offset + kept, bytes(length - kept))  # only a prefix of the write made it

    node = open_node(sim_disk, segment_size=1 << 16)
    assert node.group(2).last_index() == 12  # the torn record is gone, everything before it is intact
    assert node.group(1).hard_state.commit == 8
    node.group(2).append(entries(2, 13, 2, term=2))
    node.sync()
    before = states(node)
    node.close()
    reopened = open_node(sim_disk, segment_size=1 << 16)
    assert states(reopened) == before
    assert reopened.group(2).term(14) == 2


def test_a_torn_tail_on_the_real_disk(tmp_path):
    path = str(tmp_path / "node")
    disk = RealDisk()
    three_synced_batches(disk, path).close()
    [segment] = segment_paths(disk, path)
    offset, _, _, length = records(disk, segment)[-1]
    overwrite(disk, segment, offset + 7, bytes(length - 7))
    node = open_node(disk, path, segment_size=1 << 16)
    assert node.group(1).hard_state.commit == 4  # the last batch ended with group 1's hard state: torn
    node.group(1).append(entries(1, 13, 1))
    node.sync()
    node.close()
    assert open_node(disk, path, segment_size=1 << 16).group(1).last_index() == 13


def test_the_preallocated_tail_reads_as_the_end_of_the_log(sim_disk):
    three_synced_batches(sim_disk).close()
    [segment] = segment_paths(sim_disk)
    assert len(sim_disk.read(segment)) == 1 << 16
    node = open_node(sim_disk, segment_size=1 << 16)
    assert node.wal.next_lsn == len(records(sim_disk, segment)) == 9


def test_corruption_in_the_middle_names_file_offset_and_group(sim_disk):
    three_synced_batches(sim_disk).close()
    [segment] = segment_paths(sim_disk)
    offset, _, group, length = records(sim_disk, segment)[4]
    sim_disk.flip_bit(segment, offset + HEADER.size + 5)
    with pytest.raises(CorruptionError) as raised:
        open_node(sim_disk, segment_size=1 << 16)
    message = str(raised.value)
    assert segment in message and f"byte offset {offset}" in message and f"group {group}" in message
    assert "remove its data directory" in message and "new member" in message
    assert (raised.value.path, raised.value.offset, raised.value.group) == (segment, offset, group)


def test_a_damaged_record_header_is_corruption_too(sim_disk):
    three_synced_batches(sim_disk).close()
    [segment] = segment_paths(sim_disk)
    offset = records(sim_disk, segment)[2][0]
    sim_disk.flip_bit(segment, offset + 9)  # the length field
    with pytest.raises(CorruptionError, match=f"byte offset {offset} .group unknown.*header checksum"):
        open_node(sim_disk, segment_size=1 << 16)


def test_a_damaged_last_record_that_was_completely_written_is_not_taken_for_a_torn_one(sim_disk):
    three_synced_batches(sim_disk).close()
    [segment] = segment_paths(sim_disk)
    offset, _, _, length = records(sim_disk, segment)[-1]
    sim_disk.flip_bit(segment, offset + length - 3)
    with pytest.raises(CorruptionError, match="completely written"):
        open_node(sim_disk, segment_size=1 << 16)


def fill_small_segments(sim_disk, batches: int) -> None:
    """Write ``batches`` synced batches of group 4 into 2 KiB segments, then close the node."""
    node = open_node(sim_disk, segment_size=2048)
    for i in range(batches):
        node.group(4).append(entries(4, i * 3 + 1, 3))
        node.sync()
    node.close()


def test_corruption_in_a_sealed_segment(sim_disk):
    fill_small_segments(sim_disk, batches=20)
    first = segment_paths(sim_disk)[0]
    offset, _, _, length = records(sim_disk, first)[-1]  # the very end of a segment that is not the last
    sim_disk.flip_bit(first, offset + length - 2)
    with pytest.raises(CorruptionError, match="sealed segment") as raised:
        open_node(sim_disk, segment_size=2048)
    assert raised.value.path == first and raised.value.group == 4


def test_data_after_the_end_of_the_log_is_corruption(sim_disk):
    three_synced_batches(sim_disk).close()
    [segment] = segment_paths(sim_disk)
    offset, _, _, length = records(sim_disk, segment)[-1]
    sim_disk.flip_bit(segment, offset + length + 100)
    with pytest.raises(CorruptionError, match="after the end of the log"):
        open_node(sim_disk, segment_size=1 << 16)


def test_a_missing_segment_is_corruption(sim_disk):
    fill_small_segments(sim_disk, batches=40)
    assert len(segment_paths(sim_disk)) >= 3
    sim_disk.remove(segment_paths(sim_disk)[1])
    with pytest.raises(CorruptionError, match="segment file missing"):
        open_node(sim_disk, segment_size=2048)


def test_a_corrupt_snapshot_file_is_detected(sim_disk):
    node = open_node(sim_disk)
    node.group(3).append(entries(3, 1, 10))
    node.group(3).create_snapshot(8, ConfState(voters=(1, 2, 3)), b"the state machine at 8" * 20)
    node.sync()
    node.close()
    [snapshot] = sim_disk.list_dir(f"{DATA}/snap")
    path = f"{DATA}/snap/{snapshot}"
    sim_disk.flip_bit(path, 100)
    with pytest.raises(SnapshotCorruptError, match="snapshot checksum mismatch") as raised:
        open_node(sim_disk)
    assert raised.value.path == path and raised.value.group == 3
    assert "remove its data directory" in str(raised.value)


def test_a_missing_snapshot_file_is_detected(sim_disk):
    node = open_node(sim_disk)
    node.group(3).append(entries(3, 1, 10))
    node.group(3).create_snapshot(8, ConfState(voters=(1,)), b"state")
    node.sync()
    node.close()
    [snapshot] = sim_disk.list_dir(f"{DATA}/snap")
    sim_disk.remove(f"{DATA}/snap/{snapshot}")
    with pytest.raises(SnapshotCorruptError, match="missing"):
        open_node(sim_disk)


def test_another_clusters_or_nodes_directory_is_refused(sim_disk):
    three_synced_batches(sim_disk).close()
    with pytest.raises(ClusterIdMismatchError, match="cluster"):
        NodeStorage.open(sim_disk, DATA, cluster_id=CLUSTER + 1, node_id=NODE)
    with pytest.raises(NodeIdMismatchError, match="node 1, not to node 2"):
        NodeStorage.open(sim_disk, DATA, cluster_id=CLUSTER, node_id=2)
    assert states(open_node(sim_disk, segment_size=1 << 16))  # refusing changed nothing


def test_a_newer_format_version_is_refused(sim_disk):
    three_synced_batches(sim_disk).close()
    [segment] = segment_paths(sim_disk)
    header = bytearray(sim_disk.read(segment)[:64])
    header[8:12] = struct.pack("<I", 2)
    header[60:64] = struct.pack("<I", crc32c(bytes(header[:60])))
    overwrite(sim_disk, segment, 0, bytes(header))
    with pytest.raises(UnsupportedVersionError, match="version 2"):
        open_node(sim_disk, segment_size=1 << 16)


def test_a_newer_snapshot_format_version_is_refused(sim_disk):
    node = open_node(sim_disk)
    node.group(3).append(entries(3, 1, 10))
    node.group(3).create_snapshot(8, ConfState(voters=(1,)), b"state")
    node.sync()
    node.close()
    [snapshot] = sim_disk.list_dir(f"{DATA}/snap")
    path = f"{DATA}/snap/{snapshot}"
    data = bytearray(sim_disk.read(path))
    data[8:12] = struct.pack("<I", 7)
    data[-4:] = struct.pack("<I", crc32c(bytes(data[:-4])))
    overwrite(sim_disk, path, 0, bytes(data))
    with pytest.raises(UnsupportedVersionError, match="version 7"):
        open_node(sim_disk)


def test_leftovers_of_interrupted_work_are_removed(sim_disk):
    three_synced_batches(sim_disk).close()
    for leftover in (f"{DATA}/wal/0000000000000002.wal.tmp", f"{DATA}/snap/orphan.snap", f"{DATA}/snap/x.snap.tmp"):
        sim_disk.open(leftover, create=True).write_at(0, b"half written")
    before = states(open_node(sim_disk, segment_size=1 << 16))
    assert sim_disk.list_dir(f"{DATA}/wal") == ["0000000000000001.wal"]
    assert sim_disk.list_dir(f"{DATA}/snap") == []
    assert states(open_node(sim_disk, segment_size=1 << 16)) == before
