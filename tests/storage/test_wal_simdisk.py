"""The simulated disk itself: what survives a crash, torn writes, bit flips, a full disk, determinism."""

from __future__ import annotations

import errno
import random

import pytest

from tandemdb.storage import SimDisk


def written(disk: SimDisk, path: str, data: bytes, *, sync: bool) -> None:
    f = disk.open(path, create=not disk.exists(path))
    f.write_at(f.size(), data)
    if sync:
        f.datasync()


def test_a_crash_keeps_synced_data_and_at_most_a_prefix_of_the_rest():
    outcomes = set()
    for seed in range(200):
        disk = SimDisk(random.Random(seed))
        disk.make_dirs("/d")
        written(disk, "/d/f", b"synced|", sync=True)
        disk.sync_dir("/d")
        written(disk, "/d/f", b"first-", sync=False)
        written(disk, "/d/f", b"second", sync=False)
        disk.crash()
        data = disk.read("/d/f")
        assert data.startswith(b"synced|")
        rest = data[len(b"synced|") :].rstrip(b"\0")
        assert b"synced|first-second".startswith(b"synced|" + rest)
        outcomes.add(len(rest))
    assert outcomes == set(range(13)), "all prefixes, torn ones included, occur"


def test_names_survive_only_once_their_directory_is_synced(sim_disk):
    sim_disk.make_dirs("/d")
    written(sim_disk, "/d/kept", b"x", sync=True)
    sim_disk.sync_dir("/d")
    written(sim_disk, "/d/lost", b"y", sync=True)
    sim_disk.rename("/d/kept", "/d/renamed")
    sim_disk.crash()
    assert sim_disk.list_dir("/d") == ["kept"]
    sim_disk.rename("/d/kept", "/d/renamed")
    sim_disk.sync_dir("/d")
    sim_disk.crash()
    assert sim_disk.list_dir("/d") == ["renamed"]
    sim_disk.remove("/d/renamed")
    sim_disk.crash()
    assert sim_disk.list_dir("/d") == ["renamed"]


def test_handles_opened_before_a_crash_are_dead(sim_disk):
    sim_disk.make_dirs("/d")
    f = sim_disk.open("/d/f", create=True)
    sim_disk.crash()
    with pytest.raises(RuntimeError, match="after the disk crashed"):
        f.write_at(0, b"x")


def test_flip_bit_damages_data_at_rest(sim_disk):
    sim_disk.make_dirs("/d")
    written(sim_disk, "/d/f", b"\x00\x00", sync=True)
    sim_disk.sync_dir("/d")
    sim_disk.flip_bit("/d/f", 1, bit=3)
    assert sim_disk.read("/d/f") == b"\x00\x08"
    sim_disk.crash()
    assert sim_disk.read("/d/f") == b"\x00\x08"


def test_a_full_disk_fails_writes_with_enospc(sim_disk):
    sim_disk.capacity = 100
    sim_disk.make_dirs("/d")
    f = sim_disk.open("/d/f", create=True)
    f.write_at(0, bytes(60))
    f.write_at(0, b"y" * 60)  # an overwrite needs no room
    with pytest.raises(OSError) as raised:
        f.write_at(60, b"z" * 50)
    assert raised.value.errno == errno.ENOSPC
    assert f.size() == 100  # the part that fit was written, as a short write would
    with pytest.raises(OSError):
        sim_disk.open("/d/g", create=True).write_at(0, b"x")
    sim_disk.fail_next_write(keep=2)
    with pytest.raises(OSError):
        f.write_at(0, b"abcd")
    assert sim_disk.read("/d/f")[:4] == b"abyy"


def test_a_seed_replays_the_same_crash():
    def run(seed: int) -> bytes:
        disk = SimDisk(random.Random(seed))
        disk.make_dirs("/d")
        for i in range(20):
            written(disk, "/d/f", bytes([i]) * 10, sync=i % 7 == 0)
        disk.sync_dir("/d")
        disk.crash()
        return disk.read("/d/f")

    assert run(5) == run(5)
    assert len({run(seed) for seed in range(10)}) > 1
