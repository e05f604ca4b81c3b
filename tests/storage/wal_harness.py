"""Helpers shared by the storage tests: opening a node's storage, making entries and random writes, comparing
group states."""

from __future__ import annotations

import random

from tandemdb.raft.storage import MemoryStorage
from tandemdb.raft.types import ConfState, Entry, HardState, Snapshot, SnapshotMeta
from tandemdb.storage import Disk, NodeStorage
from tandemdb.storage.record import OVERHEAD
from tandemdb.storage.segment import scan_records

CLUSTER = 0xC1
NODE = 1
DATA = "/data"


def open_node(disk: Disk, path: str = DATA, *, segment_size: int = 4096, node_id: int = NODE) -> NodeStorage:
    return NodeStorage.open(disk, path, cluster_id=CLUSTER, node_id=node_id, segment_size=segment_size)


def payload(group: int, index: int, term: int, size: int = 40) -> bytes:
    """Deterministic entry data, so a reader can tell an intact entry from a damaged one."""
    seed = f"g{group}i{index}t{term}|".encode()
    return (seed * (size // len(seed) + 1))[:size]


def entries(group: int, first: int, count: int, term: int = 1, size: int = 40) -> list[Entry]:
    return [Entry(term, i, 0, payload(group, i, term, size)) for i in range(first, first + count)]


def state(storage: MemoryStorage) -> tuple:
    """Everything Raft can observe of a group's storage, comparable with ==."""
    snap = storage.snapshot()
    first, last = storage.first_index(), storage.last_index()
    return (
        storage.initial_state(),
        first,
        last,
        storage.term(first - 1),
        storage.entries(first, last + 1) if last >= first else [],
        snap.meta,
        snap.data,
    )


def states(node: NodeStorage) -> dict[int, tuple]:
    return {g: state(node.group(g)) for g in node.group_ids() if state(node.group(g)) != state(MemoryStorage())}


def records(disk: Disk, path: str) -> list[tuple[int, int, int, int]]:
    """(offset, kind, group, total length) of each valid record of the segment file ``path``."""
    f = disk.open(path)
    data = f.read_at(0, f.size())
    f.close()
    found: list[tuple[int, int, int, int]] = []
    scan_records(
        data,
        path,
        0,
        last=True,
        on_record=lambda lsn, kind, group, body, p, offset: found.append((offset, kind, group, len(body) + OVERHEAD)),
    )
    return found


def segment_paths(disk: Disk, path: str = DATA) -> list[str]:
    return [f"{path}/wal/{name}" for name in disk.list_dir(f"{path}/wal")]


def overwrite(disk: Disk, path: str, offset: int, data: bytes) -> None:
    f = disk.open(path)
    f.write_at(offset, data)
    f.datasync()
    f.close()


Op = tuple[int, str, tuple]  # (group, GroupStorage / MemoryStorage write method, arguments)


def random_op(rng: random.Random, models: dict[int, MemoryStorage], step: int) -> Op:
    """A random write that is valid for the groups' current state in ``models``."""
    group = rng.choice(sorted(models))
    model = models[group]
    first, last, snap = model.first_index(), model.last_index(), model.snapshot().meta.index
    r = rng.random()
    if r < 0.05:
        meta = SnapshotMeta(max(last, snap) + rng.randint(1, 5), step, ConfState(voters=(1, 2, 3)))
        return group, "apply_snapshot", (Snapshot(meta, f"installed {group}@{meta.index}".encode()),)
    if r < 0.12 and max(snap + 1, first - 1) <= last:
        index = rng.randint(max(snap + 1, first - 1), last)
        return group, "create_snapshot", (index, ConfState(voters=(1, 2)), f"created {group}@{index}".encode())
    if r < 0.25 and first <= last:
        return group, "compact", (rng.randint(first, last),)
    if r < 0.4:
        return group, "set_hard_state", (HardState(step, rng.randint(0, 3), rng.randint(0, last)),)
    start = rng.randint(first, last + 1) if rng.random() < 0.3 else last + 1  # sometimes overwrite a suffix
    return group, "append", (entries(group, start, rng.randint(1, 4), term=step, size=rng.randint(1, 120)),)


def apply(target, op: Op) -> None:
    """Apply ``op`` to a NodeStorage's groups or to a dict of MemoryStorage models."""
    group, name, args = op
    storage = target.group(group) if isinstance(target, NodeStorage) else target[group]
    getattr(storage, name)(*args)


def clone(storage: MemoryStorage) -> MemoryStorage:
    copy = MemoryStorage()
    copy.hard_state, copy._snapshot, copy._ents = storage.hard_state, storage._snapshot, list(storage._ents)
    return copy
