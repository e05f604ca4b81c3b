"""Seeded crash simulation on a SimDisk: random writes, syncs and crashes over several groups.

After every crash the recovered node must hold exactly the state as of its last sync plus a prefix of the
records written (not synced) since: every synced record present, every record wholly there or wholly absent.
"""

from __future__ import annotations

import random

import pytest

from tandemdb.raft.storage import MemoryStorage
from tandemdb.storage import SimDisk
from wal_harness import Op, apply, clone, open_node, random_op, state

GROUPS = 3


def matches(node, models: dict[int, MemoryStorage]) -> bool:
    return all(state(node.group(g)) == state(models[g]) for g in range(GROUPS))


def simulate(seed: int, steps: int) -> int:
    """Runs one seeded history; returns how many crashes it survived."""
    rng = random.Random(seed)
    disk = SimDisk(random.Random(seed * 7919 + 1))
    segment_size = rng.choice([1024, 2048, 8192])
    node = open_node(disk, segment_size=segment_size)
    durable = {g: MemoryStorage() for g in range(GROUPS)}  # as of the last sync
    live = {g: MemoryStorage() for g in range(GROUPS)}  # with every write made since
    pending: list[Op] = []  # writes since the last sync, in order
    written = 0  # how many of them reached the log file (unsynced)
    crashes = 0
    for step in range(steps):
        r = rng.random()
        if r < 0.07:
            disk.crash(tear=True)
            node = open_node(disk, segment_size=segment_size)
            candidate = {g: clone(m) for g, m in durable.items()}
            ok = matches(node, candidate)
            for op in pending[:written]:
                if ok:
                    break
                apply(candidate, op)
                ok = matches(node, candidate)
            assert ok, f"seed {seed}, step {step}: recovered state is not the synced state plus a prefix of the rest"
            durable, live = candidate, {g: clone(m) for g, m in candidate.items()}
            pending, written, crashes = [], 0, crashes + 1
        elif r < 0.2:
            node.sync()
            durable = {g: clone(m) for g, m in live.items()}
            pending, written = [], 0
        elif r < 0.28:
            node.wal.write([node.take_batch()])  # on the file but not synced: a crash may keep any prefix of it
            written = len(pending)
        elif r < 0.3:
            node.sync()
            node.close()
            node = open_node(disk, segment_size=segment_size)
            assert matches(node, live), f"seed {seed}, step {step}: a clean reopen changed the state"
            durable, pending, written = {g: clone(m) for g, m in live.items()}, [], 0
        else:
            op = random_op(rng, live, step)
            apply(node, op)
            apply(live, op)
            pending.append(op)
    return crashes


@pytest.mark.parametrize("seed", range(120))
def test_a_crash_loses_only_unsynced_records(seed):
    assert simulate(seed, steps=250) > 0


@pytest.mark.slow
def test_a_crash_loses_only_unsynced_records_soak():
    for seed in range(120, 3120):
        assert simulate(seed, steps=500) > 0
