"""Writer for the real-process crash test (test_wal_crash_process.py); run by path:

    python tests/storage/wal_crash_writer.py DATA_DIR SEED

Appends 128-byte entries for several groups as fast as it can, one asyncio task per group, through the
``GroupCommitter``, with ``SpareSegments`` zero-filling the next segment ahead, as in the server. Once the batch
holding them is durable it prints ``<group> <first> <last>`` to stdout (one unbuffered write per line). Every
``SNAPSHOT_EVERY`` entries a group snapshots at its acknowledged index and compacts its log, so segments rotate,
snapshot files are replaced and old segments deleted. It runs until killed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tandemdb.raft.types import ConfState, Entry  # noqa: E402
from tandemdb.storage import NodeStorage, RealDisk  # noqa: E402
from tandemdb.storage.threads import GroupCommitter, SpareSegments  # noqa: E402

CLUSTER = 0xC1
NODE = 1
GROUPS = 8
ENTRY_SIZE = 128
SEGMENT_SIZE = 256 << 10
SNAPSHOT_EVERY = 300


def entry_data(group: int, index: int) -> bytes:
    return hashlib.blake2b(f"{group}:{index}".encode(), digest_size=64).digest() * (ENTRY_SIZE // 64)


def snapshot_data(group: int, index: int) -> bytes:
    return f"group {group} applied through {index}".encode()


def open_storage(path: str) -> NodeStorage:
    return NodeStorage.open(RealDisk(), path, cluster_id=CLUSTER, node_id=NODE, segment_size=SEGMENT_SIZE)


class _LoopTurns:
    """One batch per event-loop turn, handed to the committer; one future per turn."""

    def __init__(self, storage: NodeStorage, committer: GroupCommitter) -> None:
        self._storage, self._committer = storage, committer
        self._loop = asyncio.get_running_loop()
        self._future: asyncio.Future[None] | None = None

    def durable(self) -> asyncio.Future[None]:
        if self._future is None:
            self._future = self._loop.create_future()
            self._loop.call_soon(self._flush)
        return self._future

    def _flush(self) -> None:
        future, self._future = self._future, None
        assert future is not None

        def on_done(error: BaseException | None) -> None:
            self._loop.call_soon_threadsafe(self._done, future, error)

        self._committer.submit(self._storage.take_batch(), on_done)

    @staticmethod
    def _done(future: asyncio.Future[None], error: BaseException | None) -> None:
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


async def write_group(storage: NodeStorage, turns: _LoopTurns, group: int, rng: random.Random) -> None:
    gs = storage.group(group)
    while True:
        first = gs.last_index() + 1
        last = first + rng.randint(0, 7)
        gs.append([Entry(1, i, 0, entry_data(group, i)) for i in range(first, last + 1)])
        await turns.durable()
        os.write(1, f"{group} {first} {last}\n".encode())  # only now: the fdatasync holding them returned
        if last - gs.snapshot().meta.index >= SNAPSHOT_EVERY:
            gs.create_snapshot(last, ConfState(voters=(NODE,)), snapshot_data(group, last))
            gs.compact(last - 50)


async def main(path: str, seed: int) -> None:
    storage = open_storage(path)
    rng = random.Random(seed)
    with GroupCommitter(storage.wal) as committer, SpareSegments(storage.wal):
        turns = _LoopTurns(storage, committer)
        await asyncio.gather(*(write_group(storage, turns, g, random.Random(rng.random())) for g in range(GROUPS)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
