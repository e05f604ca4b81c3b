"""One simulated machine: a SimDisk, and while the machine is up, the real product ``Node`` over the real
``NodeStorage`` (write-ahead log, snapshot files, recovery) on that disk.

The simulator plays the part of the server shell (``tandemdb.server``): it feeds the node events and carries
out each ``Output`` the node drains. Durability is exact: the batches a node drains are written and synced in
drain order, one disk write at a time, each taking virtual time; only then is the node told
(``persisted``). A crash loses what was not synced, or writes some of it without a sync and lets the power
loss keep or tear it. A restart opens the storage again from the disk and builds a new ``Node``, as
``tandem start`` does after a power cut.
"""

from __future__ import annotations

import random
from collections import deque
from typing import TYPE_CHECKING

from ..node import Node
from ..raft.types import HardState, Role
from ..storage.node_storage import NodeStorage
from ..storage.record import WriteBatch
from ..storage.simdisk import SimDisk
from ..wire.client_api import Member
from . import views
from .durable import DurableLog, records

if TYPE_CHECKING:
    from .simulation import Simulation

DATA_DIR = "/data"
CLUSTER_ID = 1
SEGMENT_SIZE = 8 << 10  # small segments, so that rollover and segment deletion happen in every run


def member(node_id: int) -> Member:
    return Member(node_id, f"10.0.0.{node_id}:2380", f"10.0.0.{node_id}:2379")


class SimHost:
    def __init__(self, sim: Simulation, node_id: int, disk: SimDisk) -> None:
        self.sim = sim
        self.id = node_id
        self.disk = disk
        self.node: Node | None = None  # None while the machine is down
        self.storage: NodeStorage | None = None
        self.durable = DurableLog()
        self.incarnation = 0
        self.tick_us = sim.tick_us  # this machine's tick period: skew faults make its clock run fast or slow
        self.writes: deque[tuple[int, WriteBatch]] = deque()  # drained, not yet durable, in drain order
        self.seen: tuple[int, int, int, int] = (0, 0, 0, 0)  # (term, role, leader, commit) last traced

    @property
    def alive(self) -> bool:
        return self.node is not None

    @property
    def running(self) -> Node:
        """The node, for a caller that knows the machine is up; a clear error if it is down."""
        if self.node is None:
            raise RuntimeError(f"node {self.id} is down: the simulator used it as if it were running")
        return self.node

    # -- life cycle -------------------------------------------------------------------------------------------
    def open_storage(self) -> NodeStorage:
        """Recover the storage from the disk (raises a ``StorageError`` if the disk is corrupt)."""
        self.storage = NodeStorage.open(
            self.disk, DATA_DIR, cluster_id=CLUSTER_ID, node_id=self.id, segment_size=SEGMENT_SIZE
        )
        self.durable = DurableLog.recovered(self.storage.group(views.GROUP))
        return self.storage

    def start(self, founders: list[Member] | None) -> None:
        """Start (or restart) the node on what the disk holds. ``founders``: the voters of a new cluster, for
        the nodes that found it; a node added later, or restarted, starts with None."""
        storage = self.open_storage()
        cfg = self.sim.node_config(self.id)
        peers = {i: member(i).peer for i in range(1, self.sim.max_node_id + 1)}
        rng = random.Random(self.sim.rng.getrandbits(64))
        self.node = Node(cfg, storage, rng, initial_members=founders, peers=peers)
        self.incarnation += 1
        self.writes.clear()
        self.seen = (0, 0, 0, 0)
        if founders:
            # A founder's bootstrap log is durable before the node takes part, as ``tandem start`` syncs it
            # before it listens.
            out = self.node.drain()
            assert out.persist and out.batch is not None and not out.messages and not out.replies
            self._sync(out.batch)
            self.node.persisted(out.persist, None)

    def crash(self, rng: random.Random, torn: bool) -> None:
        """Power off at once. Writes in flight are lost; with ``torn``, some of them were written without a
        sync, and the power loss keeps a random part of them and tears the next. ``durable`` is then what
        recovery finds on the disk."""
        assert self.storage is not None
        if torn and self.writes:
            for _, batch in list(self.writes)[: rng.randint(1, len(self.writes))]:
                self.storage.wal.write([batch])
        self.disk.crash(tear=torn)
        self.node = None
        self.writes.clear()
        self.open_storage()

    # -- carrying out what the node asks ------------------------------------------------------------------
    def drain(self) -> None:
        """End of an event: take the node's output and carry it out."""
        node = self.node
        assert node is not None
        out = node.drain()
        sim = self.sim
        for group, entries in out.applied:
            if group == views.GROUP:
                for e in entries:
                    sim.invariants.on_apply(self.id, e)
        for dest, msgs in out.messages.items():
            sim.send(self, dest, msgs)
        for conn, resp in out.replies:
            sim.reply(self.id, conn, resp)
        if out.persist:
            assert out.batch is not None
            self.writes.append((out.persist, out.batch))
            if len(self.writes) == 1:
                sim.schedule_disk(self)
        if node.failed is not None:
            raise AssertionError(f"node {self.id} failed: {node.failed!r}")

    def finish_write(self) -> None:
        """The disk write of the oldest drained batch completes: make it durable, tell the node."""
        token, batch = self.writes.popleft()
        self._sync(batch)
        assert self.node is not None
        self.node.persisted(token, None)
        if self.writes:
            self.sim.schedule_disk(self)

    def _sync(self, batch: WriteBatch) -> None:
        assert self.storage is not None
        self.storage.wal.write([batch])
        self.storage.wal.sync()
        durable = self.durable
        truncated = False
        for kind, record in records(batch, views.GROUP):
            if isinstance(record, list):
                self.sim.invariants.on_persist(self.id, record, durable)
                truncated = truncated or record[0].index <= durable.last_index()
            elif isinstance(record, HardState) and record.commit < durable.hard_state.commit:
                self.sim.violation(
                    f"node {self.id}: durable commit index went back from {durable.hard_state.commit} "
                    f"to {record.commit}"
                )
            durable.apply(kind, record)
        if truncated:
            self.sim.check_durability()

    # -- views -----------------------------------------------------------------------------------------------
    @property
    def is_leader(self) -> bool:
        return self.node is not None and views.raft_of(self.node).role == Role.LEADER
