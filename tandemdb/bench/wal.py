"""Write-ahead log benchmark: group commit next to raw ``os.write`` + ``os.fdatasync``, measured in the same run.

    python -m tandemdb.bench.wal [--seconds 5] [--submitters 32] [--entries 16] [--size 128] [--dir DIR] [--profile]

Group commit, the way the server drives it: on a uvloop event loop, ``--submitters`` asyncio tasks, each a Raft
group, each appending ``--entries`` log entries of ``--size`` bytes per loop turn through ``GroupStorage`` (one
encode, one WAL record per group and turn) and awaiting durability. Once per loop turn the pending batch goes to
the ``GroupCommitter`` thread, which writes it with one write and makes it durable with one fdatasync, while
``SpareSegments`` zero-fills the next segment. Groups compact their logs as they go, so segments rotate and get
deleted as in a real node.

Raw: loops of ``os.write`` + ``os.fdatasync`` appending to a file prepared the way the log prepares its segments
(zero-filled: written, not just reserved), and the same on a file reserved with ``posix_fallocate``, as a log
that skips zero-filling would be: of one ``--size`` record, and of a write the size of an average group-commit
batch, back to back; and the latter again paced like the group commit (pausing between syncs as long as the
event loop works between two commits), since on some devices (virtual disks especially) a sync issued after a
pause is slower than one issued right after the previous one. The group-commit runs and the raw loops alternate
in ``--rounds`` rounds, so both see the same device.

Reported: records/s (entries of ``--size`` bytes), WAL records/s, syncs/s, commit latency (batch handed to the
committer to completion seen on the event loop), and its ratio to one raw write + fdatasync.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from dataclasses import dataclass, field

import uvloop

from ..raft.types import Entry
from ..storage import NodeStorage, RealDisk
from ..storage.segment import create_zeroed_file
from ..storage.threads import GroupCommitter, SpareSegments

_RAW_FILE_SIZE = 64 << 20
# label: (one record rather than an average batch, paced like the group commit, zero-filled file)
_RAW_LOOPS = {
    "one record, back to back": (True, False, True),
    "avg batch, back to back": (False, False, True),
    "avg batch, paced like the group commit": (False, True, True),
    "avg batch, paced, on a posix_fallocate'd file": (False, True, False),
}


@dataclass
class GroupCommitResult:
    seconds: float = 0.0
    entries: int = 0
    wal_records: int = 0
    syncs: int = 0
    batch_bytes: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    syncs_alone: list[float] = field(default_factory=list)  # each fdatasync itself, timed on the commit thread


class _LoopTurns:
    """Hands the records of each loop turn to the committer as one batch; one future per turn."""

    def __init__(self, storage: NodeStorage, committer: GroupCommitter, result: GroupCommitResult) -> None:
        self._storage = storage
        self._committer = committer
        self._result = result
        self._loop = asyncio.get_running_loop()
        self._future: asyncio.Future[None] | None = None

    def durable(self) -> asyncio.Future[None]:
        """A future done once everything written so far in this loop turn is durable."""
        if self._future is None:
            self._future = self._loop.create_future()
            self._loop.call_soon(self._flush)  # runs after every task already scheduled for this turn
        return self._future

    def _flush(self) -> None:
        future, self._future = self._future, None
        assert future is not None  # durable() made it and scheduled this flush
        batch = self._storage.take_batch()
        self._result.batch_bytes.append(len(batch.buf))
        self._result.wal_records += batch.count
        start = time.perf_counter()

        def on_done(error: BaseException | None) -> None:  # on the commit thread
            self._loop.call_soon_threadsafe(self._done, future, start, error)

        self._committer.submit(batch, on_done)

    def _done(self, future: asyncio.Future[None], start: float, error: BaseException | None) -> None:
        self._result.latencies.append(time.perf_counter() - start)
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


async def _submit_until(
    deadline: float, turns: _LoopTurns, storage: NodeStorage, group: int, args: argparse.Namespace,
    result: GroupCommitResult,
) -> None:
    loop = asyncio.get_running_loop()
    gs = storage.group(group)
    payload = os.urandom(args.size)
    index = gs.last_index()
    while loop.time() < deadline:
        gs.append([Entry(1, index + i, 0, payload) for i in range(1, args.entries + 1)])
        index += args.entries
        if index - gs.first_index() > 8192:  # keep memory bounded, and exercise segment deletion
            gs.compact(index - 1024)
        await turns.durable()
        result.entries += args.entries


async def _drive(
    storage: NodeStorage, committer: GroupCommitter, args: argparse.Namespace, seconds: float, result: GroupCommitResult
) -> None:
    turns = _LoopTurns(storage, committer, result)
    start = time.perf_counter()
    deadline = asyncio.get_running_loop().time() + seconds
    await asyncio.gather(*(_submit_until(deadline, turns, storage, g, args, result) for g in range(args.submitters)))
    result.seconds += time.perf_counter() - start


def raw_fdatasync(directory: str, size: int, seconds: float, *, pause: float = 0.0, zeroed: bool = True) -> list[float]:
    """Latency of each ``os.write`` + ``os.fdatasync`` of ``size`` bytes appended to a file zero-filled (or, with
    ``zeroed=False``, reserved with ``posix_fallocate``) beforehand, back to back, or ``pause`` seconds apart."""
    path = os.path.join(directory, f"raw-{size}")
    if zeroed:
        create_zeroed_file(RealDisk(), path, _RAW_FILE_SIZE).close()
        fd = os.open(path, os.O_RDWR)
    else:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        os.posix_fallocate(fd, 0, _RAW_FILE_SIZE)
        os.fsync(fd)
    try:
        data = os.urandom(size)
        latencies = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            if os.lseek(fd, 0, os.SEEK_CUR) + size > _RAW_FILE_SIZE:
                os.lseek(fd, 0, os.SEEK_SET)
            if pause:
                time.sleep(pause)
            start = time.perf_counter()
            os.write(fd, data)
            os.fdatasync(fd)
            latencies.append(time.perf_counter() - start)
        return latencies
    finally:
        os.close(fd)
        os.remove(path)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} us"


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tandemdb.bench.wal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="total length of the group-commit runs")
    parser.add_argument("--raw-seconds", type=float, default=1.0, help="total length of each raw fdatasync loop")
    parser.add_argument("--rounds", type=int, default=5, help="group commit and raw loops alternate this often")
    parser.add_argument("--submitters", type=int, default=32, help="concurrent asyncio tasks, one group each")
    parser.add_argument("--entries", type=int, default=16, help="entries each submitter appends per loop turn")
    parser.add_argument("--size", type=int, default=128, help="bytes per entry (record)")
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temp dir)")
    parser.add_argument("--profile", action="store_true", help="cProfile the event loop thread")
    args = parser.parse_args(argv)

    gc = GroupCommitResult()
    raw: dict[str, list[float]] = {label: [] for label in _RAW_LOOPS}
    profile = cProfile.Profile() if args.profile else None
    with tempfile.TemporaryDirectory(prefix="tandem-bench-wal-", dir=args.dir) as directory:
        storage = NodeStorage.open(RealDisk(), os.path.join(directory, "node"), cluster_id=1, node_id=1)
        with GroupCommitter(storage.wal) as committer, SpareSegments(storage.wal):
            committer.on_sync = lambda seconds, records, size: gc.syncs_alone.append(seconds)
            # Rounds alternate so that both sides see the same disk: a shared or throttled device drifts.
            for _ in range(args.rounds):
                batches, seconds = len(gc.batch_bytes), gc.seconds
                if profile:
                    profile.enable()
                uvloop.run(_drive(storage, committer, args, args.seconds / args.rounds, gc))
                if profile:
                    profile.disable()
                size = int(statistics.fmean(gc.batch_bytes[batches:]))
                turn = (gc.seconds - seconds) / (len(gc.batch_bytes) - batches)
                pause = max(0.0, turn - statistics.fmean(gc.latencies[batches:]))
                for label, (one_record, paced, zeroed) in _RAW_LOOPS.items():
                    raw[label] += raw_fdatasync(
                        directory,
                        args.size if one_record else size,
                        args.raw_seconds / args.rounds,
                        pause=pause if paced else 0.0,
                        zeroed=zeroed,
                    )
            gc.syncs = committer.syncs
        storage.close()
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)

    mean_batch = statistics.fmean(gc.batch_bytes)
    commit_p50 = _p(gc.latencies, 50)
    print(
        f"group commit: {args.submitters} submitters x {args.entries} entries of {args.size} B per loop turn, "
        f"{gc.seconds:.1f} s in {args.rounds} rounds, in {args.dir or tempfile.gettempdir()}"
    )
    print(f"  records/s      {gc.entries / gc.seconds:>10,.0f}   ({args.size} B entries)")
    print(f"  WAL records/s  {gc.wal_records / gc.seconds:>10,.0f}   (one per submitter and turn)")
    print(f"  syncs/s        {gc.syncs / gc.seconds:>10,.0f}   (avg batch {mean_batch / 1024:,.1f} KiB)")
    print(f"  commit latency p50 {_us(commit_p50)}, p99 {_us(_p(gc.latencies, 99))} (batch handed over -> durable)")
    print(
        f"  of which fdatasync p50 {_us(_p(gc.syncs_alone, 50))}; the rest is the write and the hand-offs to the "
        "commit thread and back"
    )
    print("raw os.write + os.fdatasync, same run:")
    for label, latencies in raw.items():
        p50 = _p(latencies, 50)
        print(
            f"  {label:58s} p50 {_us(p50):>9s}  {len(latencies) / sum(latencies):>7,.0f} syncs/s   "
            f"commit p50 / this = {commit_p50 / p50:.2f}"
        )
    one = raw["one record, back to back"]
    per_record = len(one) / sum(one)
    print(f"records/s: group commit {gc.entries / gc.seconds:,.0f} vs one fdatasync per record {per_record:,.0f}")

if __name__ == "__main__":
    main()
