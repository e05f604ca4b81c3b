"""SpareSegments: the next log segment is zero-filled ahead of time and used at rotation; failures fall back."""

from __future__ import annotations

import os
import threading

import pytest

from tandemdb.storage import DiskFullError, RealDisk
from tandemdb.storage.threads import SpareSegments
from wal_harness import entries, open_node, states

SEGMENT = 1 << 16


class _RecordingDisk(RealDisk):
    """Remembers the name of every file created."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def open(self, path, *, create=False):
        if create:
            self.created.append(os.path.basename(path))
        return super().open(path, create=create)


def fill(node, group, first, spares=None) -> int:
    """Append entries a batch at a time until the log rotates; with ``spares``, let each requested spare be
    made before going on. Returns the next index."""
    segments = node.wal.segment_starts()
    while node.wal.segment_starts() == segments:
        node.group(group).append(entries(group, first, 1, size=1000))
        node.wal.write([node.take_batch()])
        node.wal.sync()
        first += 1
        if spares is not None:
            wait_for_spare(spares, spares.requested)
    return first


def wait_until(done, what: str) -> None:
    for _ in range(6000):
        if done():
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"waited a minute for {what}")


def wait_for_spare(spares: SpareSegments, count: int) -> None:
    wait_until(lambda: spares.prepared >= count, "a spare segment")


def test_rotation_uses_the_spare_made_while_the_segment_filled(tmp_path):
    disk = _RecordingDisk()
    path = str(tmp_path / "node")
    node = open_node(disk, path, segment_size=SEGMENT)
    with SpareSegments(node.wal) as spares:
        index = 1
        for _ in range(3):
            index = fill(node, 1, index, spares)
    assert spares.requested == spares.prepared == 3
    assert [n for n in disk.created if n.endswith(".wal.tmp")] == ["0000000000000001.wal.tmp"]  # the first one
    assert [n for n in disk.created if n.startswith("spare-")] == ["spare-1.tmp", "spare-2.tmp", "spare-3.tmp"]
    assert not [n for n in os.listdir(node.wal.directory) if n.endswith(".tmp")]  # each spare became a segment
    before = states(node)
    node.close()
    assert states(open_node(RealDisk(), path, segment_size=SEGMENT)) == before


def test_an_unused_spare_is_deleted_at_close_and_a_leftover_one_at_recovery(tmp_path):
    path = str(tmp_path / "node")
    node = open_node(RealDisk(), path, segment_size=SEGMENT)
    with SpareSegments(node.wal) as spares:
        spares.request()
        wait_for_spare(spares, 1)
        assert "spare-1.tmp" in os.listdir(node.wal.directory)
    assert "spare-1.tmp" not in os.listdir(node.wal.directory)
    node.close()
    with open(os.path.join(path, "wal", "spare-7.tmp"), "wb") as f:  # as a crash would leave it
        f.write(bytes(100))
    node = open_node(RealDisk(), path, segment_size=SEGMENT)
    assert not [n for n in os.listdir(node.wal.directory) if n.endswith(".tmp")]
    node.close()


def test_a_batch_larger_than_the_spare_gets_a_segment_of_its_own_size(tmp_path):
    path = str(tmp_path / "node")
    node = open_node(RealDisk(), path, segment_size=SEGMENT)
    with SpareSegments(node.wal) as spares:
        spares.request()
        wait_for_spare(spares, 1)
        for first, count, size in ((1, 1, 100), (2, 3, SEGMENT)):  # then three segments' worth in one batch
            node.group(1).append(entries(1, first, count, size=size))
            node.wal.write([node.take_batch()])
            node.wal.sync()
    assert len(node.wal.segment_starts()) == 2
    assert os.path.getsize(os.path.join(node.wal.directory, "0000000000000002.wal")) > 3 * SEGMENT
    assert not [n for n in os.listdir(node.wal.directory) if n.endswith(".tmp")]
    before = states(node)
    node.close()
    assert states(open_node(RealDisk(), path, segment_size=SEGMENT)) == before


def test_a_failed_spare_falls_back_to_the_rotation_which_reports_the_full_disk(sim_disk, caplog):
    node = open_node(sim_disk, segment_size=SEGMENT)
    sim_disk.capacity = SEGMENT + SEGMENT // 2  # the first segment fits, and overwrites need no room; no second one
    with SpareSegments(node.wal) as spares:
        node.group(1).append(entries(1, 1, 40, size=1000))  # past half the segment: a spare is requested
        node.wal.write([node.take_batch()])
        node.wal.sync()
        wait_until(lambda: "could not prepare the next log segment" in caplog.text, "the failure to be logged")
        assert spares.prepared == 0
        with pytest.raises(DiskFullError):
            fill(node, 1, 41)
        assert spares.requested == 1  # no retry before a rotation took place
