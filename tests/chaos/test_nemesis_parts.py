"""The parts of the nemeses that need no cluster: partition grudges, disk damage and its undo, the node's
debug fault hook (routing and clock rate), and the command line's parsing."""

from __future__ import annotations

import asyncio
import itertools
import json
import random

import pytest

from tandemdb.chaos.nemesis import disk
from tandemdb.chaos.nemesis.partition import bridge, halves, isolate, majorities_ring
from tandemdb.cli.durations import parse_seconds
from tandemdb.raft.types import Entry, HardState
from tandemdb.server.debug_faults import DebugFaults
from tandemdb.storage import NodeStorage
from tandemdb.storage.disk import RealDisk
from tandemdb.storage.errors import CorruptionError


def seen(grudges, node, nodes):
    return set(nodes) - grudges.get(node, set())


def symmetric(grudges):
    return all(a in grudges.get(b, set()) for a, g in grudges.items() for b in g)


@pytest.mark.parametrize("n", [3, 5])
def test_partitions_are_symmetric_and_shaped_as_named(n):
    nodes = list(range(1, n + 1))
    rng = random.Random(n)
    majority = n // 2 + 1
    for grudges in (isolate(2, nodes), halves(nodes, rng), majorities_ring(nodes, rng), bridge(nodes, rng)):
        assert symmetric(grudges)
    assert seen(isolate(2, nodes), 2, nodes) == {2}
    split = halves(nodes, rng)
    sizes = sorted(len(seen(split, i, nodes)) for i in nodes)
    assert sizes == [n // 2] * (n // 2) + [majority] * majority
    ring = majorities_ring(nodes, rng)
    views = [frozenset(seen(ring, i, nodes)) for i in nodes]
    assert all(len(v) >= majority for v in views)
    if n == 5:
        assert len(set(views)) == n  # no two nodes see the same majority
    bridged = bridge(nodes, rng)
    (middle,) = [i for i in nodes if not bridged.get(i)]
    others = [i for i in nodes if i != middle]
    assert all(middle in seen(bridged, i, nodes) for i in others)
    assert any(b in bridged[a] for a, b in itertools.combinations(others, 2))


def _data_dir(tmp_path):
    path = str(tmp_path / "node")
    storage = NodeStorage.open(RealDisk(), path, cluster_id=1, node_id=1, segment_size=1 << 16)
    group = storage.group(1)
    group.save(HardState(1, 1, 0), [Entry(1, i, 0, b"x" * 100) for i in range(1, 50)])
    storage.sync()
    storage.close()
    return tmp_path / "node"


def _snapshot(data_dir):
    return {p: p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("kind", sorted(disk.DAMAGE))
def test_disk_damage_is_refused_or_recovered_and_undone(tmp_path, kind):
    data_dir = _data_dir(tmp_path)
    before = _snapshot(data_dir)
    damage = disk.DAMAGE[kind](data_dir, random.Random(3))
    assert damage is not None and _snapshot(data_dir) != before
    try:
        reopened = NodeStorage.open(RealDisk(), str(data_dir), cluster_id=1, node_id=1)
    except CorruptionError as e:
        assert "wal" in str(e)  # refused, naming the file
    else:  # recovered: the torn tail is gone, every entry left is intact
        entries = reopened.group(1).entries(1, reopened.group(1).last_index() + 1, None)
        assert all(e.data == b"x" * 100 for e in entries)
        reopened.close()
        return
    damage.undo()
    assert _snapshot(data_dir) == before


def _faults(tmp_path, spec) -> tuple[DebugFaults, asyncio.AbstractEventLoop]:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps(spec))
    loop = asyncio.new_event_loop()
    return DebugFaults(loop, str(path)), loop


def test_debug_faults_drop_partitioned_peers_and_delay_in_order(tmp_path):
    faults, loop = _faults(tmp_path, {"drop": [3], "delay_ms": 30, "jitter_ms": 20})
    sent = []
    try:
        for i in range(20):
            faults.route(2, b"%d" % i, lambda to, frame: sent.append((to, frame)))
            faults.route(3, b"lost", lambda to, frame: sent.append((to, frame)))
        assert sent == [] and faults.blocks(3) and not faults.blocks(2)
        loop.run_until_complete(asyncio.sleep(0.2))
    finally:
        loop.close()
    assert sent == [(2, b"%d" % i) for i in range(20)]


def test_debug_faults_lose_frames_and_change_the_clock_rate(tmp_path):
    faults, loop = _faults(tmp_path, {"loss": 0.5, "clock_rates": [0.25, 4.0], "clock_period_ms": 100})
    sent = []
    try:
        for _ in range(400):
            faults.route(2, b"f", lambda to, frame: sent.append(frame))
        rates = {faults.clock_rate()}
        loop.run_until_complete(asyncio.sleep(0.25))
        rates.add(faults.clock_rate())
        loop.run_until_complete(asyncio.sleep(0.1))
        rates.add(faults.clock_rate())
    finally:
        loop.close()
    assert 100 < len(sent) < 300
    assert rates == {0.25, 4.0}


def test_debug_faults_bump_the_clock_once_per_new_seq(tmp_path):
    faults, loop = _faults(tmp_path, {"clock_bump": {"seq": 1, "ms": 500}})
    bumps = []
    try:
        faults.start(bumps.append, lambda: None)
        faults.load()
        assert bumps == []  # the bump already in the file at start is not replayed
        path = tmp_path / "faults.json"
        path.write_text(json.dumps({"clock_bump": {"seq": 2, "ms": -300}, "drop": [1]}))
        faults._mtime = -1  # as if the file's mtime changed within the clock's resolution
        faults.load()
    finally:
        loop.close()
    assert bumps == [-300.0] and faults.blocks(1)


def test_durations():
    assert parse_seconds("30s") == 30 and parse_seconds("90") == 90
    assert parse_seconds("5m") == 300 and parse_seconds("1m30s") == 90 and parse_seconds("500ms") == 0.5
    for bad in ("", "s", "1h", "ten", "0s"):
        with pytest.raises(ValueError):
            parse_seconds(bad)
