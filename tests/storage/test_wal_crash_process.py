"""Real processes killed with SIGKILL at random moments never lose a record they acknowledged.

The writer (wal_crash_writer.py) appends 128-byte entries for several groups through the GroupCommitter and
prints each batch's ids once its fdatasync returned; it also snapshots and compacts, so segments rotate and are
deleted. After each kill the test reopens the data directory and checks every acknowledged entry (or the
snapshot covering it) is there and intact, then starts the writer again on the same directory.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import wal_crash_writer as writer

KILLS = 20
WRITER = Path(__file__).with_name("wal_crash_writer.py")


def acknowledged_ranges(output: bytes) -> list[tuple[int, int, int]]:
    complete = output[: output.rfind(b"\n") + 1]  # a line cut by the kill was never fully printed
    return [tuple(map(int, line.split())) for line in complete.splitlines()]  # type: ignore[misc]


def run_and_kill(path: Path, out: Path, seed: int, delay: float) -> list[tuple[int, int, int]]:
    with open(out, "wb") as stdout:
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), str(seed)], stdout=stdout, stderr=subprocess.PIPE
        )
    try:
        deadline = time.monotonic() + 60  # a guard against hanging, not a timing check
        while not out.read_bytes().count(b"\n") and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        assert proc.poll() is None, f"the writer stopped on its own: {proc.stderr.read().decode()}"
    finally:
        proc.kill()  # SIGKILL
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    return acknowledged_ranges(out.read_bytes())


def check(path: Path, acked: dict[int, int]) -> None:
    storage = writer.open_storage(str(path))
    try:
        for group, highest in acked.items():
            gs = storage.group(group)
            assert gs.last_index() >= highest, f"group {group}: acknowledged {highest}, log ends at {gs.last_index()}"
            snap = gs.snapshot()
            assert gs.first_index() - 1 <= snap.meta.index, "compacted entries must be covered by the snapshot"
            if snap.meta.index:
                assert snap.data == writer.snapshot_data(group, snap.meta.index)
            for entry in gs.entries(gs.first_index(), highest + 1) if highest >= gs.first_index() else []:
                assert entry.data == writer.entry_data(group, entry.index), f"group {group} entry {entry.index}"
    finally:
        storage.close()


def test_sigkill_never_loses_an_acknowledged_record(tmp_path):
    rng = random.Random(0x7A2D)
    path = tmp_path / "node"
    acked: dict[int, int] = {}
    for kill in range(KILLS):
        ranges = run_and_kill(path, tmp_path / f"stdout-{kill}", rng.randrange(1 << 30), rng.uniform(0, 0.4))
        assert ranges, "the writer acknowledged nothing before it was killed"
        for group, _, last in ranges:
            acked[group] = max(acked.get(group, 0), last)
        check(path, acked)
    assert len(acked) == writer.GROUPS
