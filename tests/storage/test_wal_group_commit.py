"""The group-commit thread: one write and one fdatasync for everything submitted meanwhile, callbacks only after."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tandemdb.storage import DiskFullError, LogFailedError, RealDisk, StorageError
from tandemdb.storage.threads import GroupCommitter
from wal_harness import DATA, entries, open_node, states


class _GatedFile:
    """A log segment whose next fdatasync waits until the test opens the gate."""

    def __init__(self, f, disk):
        self._f, self._disk = f, disk

    def __getattr__(self, name):
        return getattr(self._f, name)

    def datasync(self):
        self._disk.in_sync.set()
        self._disk.gate.wait()
        self._f.datasync()


class _GatedDisk:
    def __init__(self, disk):
        self._disk = disk
        self.gate = threading.Event()
        self.gate.set()
        self.in_sync = threading.Event()

    def __getattr__(self, name):
        return getattr(self._disk, name)

    def open(self, path, *, create=False):
        f = self._disk.open(path, create=create)
        return _GatedFile(f, self) if ".wal" in path else f


def durable_bytes(sim_disk) -> bytes:
    [path] = sim_disk.list_dir(f"{DATA}/wal")
    return bytes(sim_disk._names[f"{DATA}/wal/{path}"].durable)


def test_batches_submitted_during_a_sync_share_the_next_one(sim_disk):
    disk = _GatedDisk(sim_disk)
    node = open_node(disk, segment_size=1 << 16)
    done: list[tuple[int, BaseException | None, bool]] = []

    def on_done(i, batch):
        # Runs on the commit thread: the batch must already be on the platter.
        return lambda error: done.append((i, error, bytes(batch.buf) in durable_bytes(sim_disk)))

    with GroupCommitter(node.wal) as committer:
        disk.in_sync.clear()  # creating the first segment synced it
        disk.gate.clear()
        node.group(0).append(entries(0, 1, 2))
        first = node.take_batch()
        committer.submit(first, on_done(0, first))
        assert disk.in_sync.wait(timeout=60)  # the thread is now inside fdatasync for the first batch
        for i in range(1, 10):
            node.group(i).append(entries(i, 1, 2))
            batch = node.take_batch()
            committer.submit(batch, on_done(i, batch))
        assert done == []
        disk.gate.set()
    assert done == [(i, None, True) for i in range(10)]
    assert committer.syncs == 2
    before = states(node)
    node.close()
    assert states(open_node(sim_disk, segment_size=1 << 16)) == before


def test_many_asyncio_submitters_on_the_real_disk(tmp_path):
    path = str(tmp_path / "node")
    node = open_node(RealDisk(), path, segment_size=1 << 16)
    acknowledged: dict[int, int] = {}

    async def main():
        loop = asyncio.get_running_loop()
        with GroupCommitter(node.wal) as committer:

            async def submitter(group):
                for i in range(20):
                    node.group(group).append(entries(group, i + 1, 1))
                    future = loop.create_future()
                    committer.submit(
                        node.take_batch(),
                        lambda error, f=future: loop.call_soon_threadsafe(f.set_result, error),
                    )
                    assert await future is None
                    acknowledged[group] = i + 1

            await asyncio.gather(*(submitter(g) for g in range(16)))
            assert committer.syncs <= 16 * 20

    asyncio.run(main())
    node.close()
    reopened = open_node(RealDisk(), path, segment_size=1 << 16)
    assert {g: reopened.group(g).last_index() for g in range(16)} == acknowledged


def test_a_failed_write_fails_its_batch_and_every_later_one(sim_disk):
    node = open_node(sim_disk, segment_size=1 << 16)
    errors: list[BaseException | None] = []
    with GroupCommitter(node.wal) as committer:
        node.group(1).append(entries(1, 1, 1))
        committer.submit(node.take_batch(), errors.append)
        committer.close()  # drains: the first batch is durable
        sim_disk.fail_next_write(keep=5)
    with GroupCommitter(node.wal) as committer:
        node.group(1).append(entries(1, 2, 1))
        committer.submit(node.take_batch(), errors.append)
    with GroupCommitter(node.wal) as committer:
        node.group(1).append(entries(1, 3, 1))
        committer.submit(node.take_batch(), errors.append)
    assert errors[0] is None
    assert isinstance(errors[1], DiskFullError)
    assert isinstance(errors[2], LogFailedError)
    assert open_node(sim_disk, segment_size=1 << 16).group(1).last_index() == 1


def test_a_closed_committer_takes_no_more_batches(sim_disk):
    node = open_node(sim_disk)
    committer = GroupCommitter(node.wal).start()
    committer.close()
    with pytest.raises(StorageError, match="closed"):
        committer.submit(node.take_batch(), lambda error: None)


def test_a_failing_callback_does_not_stop_the_thread(sim_disk, caplog):
    node = open_node(sim_disk)
    results = []
    with GroupCommitter(node.wal) as committer:
        committer.submit(node.take_batch(), lambda error: 1 / 0)
        committer.submit(node.take_batch(), results.append)
    assert results == [None]
    assert "group commit callback failed" in caplog.text
