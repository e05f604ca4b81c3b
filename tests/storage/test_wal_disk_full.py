"""A full disk makes the write that hit it fail with DiskFullError; the log stays valid, nothing is half-accepted."""

from __future__ import annotations

import errno

import pytest

from tandemdb.raft.types import ConfState
from tandemdb.storage import WAL, DiskFullError, LogFailedError, RecordKind, WriteBatch
from wal_harness import CLUSTER, DATA, NODE, entries, open_node, states


def fill_first_segment(disk):
    node = open_node(disk, segment_size=4096)
    for i in range(10):
        node.group(1).append(entries(1, i * 2 + 1, 2))
        node.sync()
    return node


def test_no_space_for_a_new_segment(sim_disk):
    sim_disk.capacity = 4096 + 512  # the first segment, and not another one
    node = fill_first_segment(sim_disk)
    durable = states(node)
    node.group(1).append(entries(1, 21, 80))  # does not fit in what is left of the segment
    with pytest.raises(DiskFullError, match="no space left on device while creating log segment"):
        node.sync()
    with pytest.raises(LogFailedError, match="reopen the storage"):
        node.sync()  # the in-memory index is ahead of the log: refuse until reopened
    node.close()

    reopened = open_node(sim_disk, segment_size=4096)
    assert states(reopened) == durable
    reopened.group(1).append(entries(1, 21, 2))  # what still fits is accepted
    reopened.sync()
    sim_disk.capacity = None
    reopened.group(1).append(entries(1, 23, 40))
    reopened.sync()
    after = states(reopened)
    reopened.close()
    assert states(open_node(sim_disk, segment_size=4096)) == after


@pytest.mark.parametrize("crash", [False, True])
def test_a_write_that_fails_halfway_is_not_half_accepted(sim_disk, crash):
    node = fill_first_segment(sim_disk)
    durable = states(node)
    node.group(1).append(entries(1, 21, 3))
    node.group(2).append(entries(2, 1, 3))
    sim_disk.fail_next_write(keep=150)  # the first record of the batch, and part of the second, reach the file
    with pytest.raises(DiskFullError):
        node.sync()
    node.close()
    if crash:
        sim_disk.crash()
    assert states(open_node(sim_disk, segment_size=4096)) == durable


def test_the_log_itself_stays_usable_after_a_failed_write(sim_disk):
    wal = WAL.open(sim_disk, f"{DATA}/wal", cluster_id=CLUSTER, node_id=NODE, segment_size=4096)
    first = WriteBatch(wal.next_lsn)
    first.add(RecordKind.HARD_STATE, 1, b"\x93\x01\x01\x00")
    wal.write([first])
    wal.sync()
    failed = WriteBatch(wal.next_lsn)
    failed.add(RecordKind.HARD_STATE, 1, b"\x93\x02\x01\x00")
    sim_disk.fail_next_write(keep=10)
    with pytest.raises(DiskFullError):
        wal.write([failed])
    retry = WriteBatch(wal.next_lsn)
    retry.add(RecordKind.HARD_STATE, 1, b"\x93\x03\x01\x00")
    wal.write([retry])
    wal.sync()
    wal.close()
    seen = []
    WAL.open(
        sim_disk,
        f"{DATA}/wal",
        cluster_id=CLUSTER,
        node_id=NODE,
        on_record=lambda lsn, kind, group, payload, path, offset: seen.append((lsn, bytes(payload))),
    )
    assert seen == [(0, b"\x93\x01\x01\x00"), (1, b"\x93\x03\x01\x00")]


def test_no_space_for_a_snapshot_file(sim_disk):
    node = open_node(sim_disk, segment_size=4096)
    node.group(1).append(entries(1, 1, 10))
    node.sync()
    before = states(node)
    sim_disk.capacity = 4096 + 1000
    node.group(1).create_snapshot(5, ConfState(voters=(1,)), bytes(5000))  # the file goes with the next batch
    with pytest.raises(DiskFullError, match="writing snapshot file"):
        node.sync()
    assert sim_disk.list_dir(f"{DATA}/snap") == []  # no partial file left
    node.group(1).create_snapshot(6, ConfState(voters=(1,)), b"small")
    with pytest.raises(LogFailedError):  # the failed batch's records were never written: reopen first
        node.sync()
    node.close()
    node = open_node(sim_disk, segment_size=4096)
    assert states(node) == before  # nothing else was disturbed
    node.group(1).create_snapshot(5, ConfState(voters=(1,)), b"small enough")
    node.sync()
    after = states(node)
    node.close()
    assert states(open_node(sim_disk, segment_size=4096)) == after


class _Proxy:
    def __init__(self, target):
        self._target = target

    def __getattr__(self, name):
        return getattr(self._target, name)


class _FailingSyncFile(_Proxy):
    def datasync(self):
        raise OSError(errno.EIO, "I/O error")


class _FailingSyncDisk(_Proxy):
    """A disk on which fdatasync of log segments fails with EIO."""

    def open(self, path, *, create=False):
        f = self._target.open(path, create=create)
        return _FailingSyncFile(f) if path.endswith(".wal") else f


def test_after_a_failed_fdatasync_the_log_refuses_writes_until_reopened(sim_disk):
    fill_first_segment(sim_disk).close()
    node = open_node(_FailingSyncDisk(sim_disk), segment_size=4096)
    node.group(1).append(entries(1, 21, 1))
    with pytest.raises(OSError, match="I/O error"):
        node.sync()
    node.group(1).append(entries(1, 22, 1))
    with pytest.raises(LogFailedError, match="reopen"):
        node.sync()
