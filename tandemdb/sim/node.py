"""One simulated node: a RawNode, the node's real storage layer (write-ahead log and snapshot files) over a
simulated disk, disk writes that take virtual time, the KV state machine, and the client requests waiting on it.

Durability is modelled exactly: a Ready's hard state, snapshot and entries are written to the log and synced
only when the simulated disk write completes; a crash before then loses them, or leaves a torn prefix of the
entries in the log for recovery to cut off. A restart recovers from the simulated disk like a real node
recovers from its data directory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..raft.config import Config, ReadOnlyOption
from ..raft.errors import ProposalDroppedError
from ..raft.rawnode import RawNode, Ready
from ..raft.types import ConfChange, ConfState, EntryType, HardState, Role
from ..storage.group_storage import GroupStorage
from ..storage.node_storage import NodeStorage
from ..storage.simdisk import SimDisk
from .kvsm import Command, KVStateMachine, encode_command

if TYPE_CHECKING:
    from .simulation import Simulation


@dataclass
class NodeParams:
    election_tick: int = 10
    heartbeat_tick: int = 2
    snapshot_every: int = 200  # applied entries between snapshots
    keep_entries: int = 20  # entries kept in the log after a snapshot, for slightly lagging followers
    snapshot_chunk_size: int = 64
    max_size_per_msg: int = 4096
    max_inflight_msgs: int = 16
    check_quorum: bool = True
    pre_vote: bool = True
    lease_reads: bool = False
    bugs: frozenset[str] = field(default_factory=frozenset)


DATA_DIR = "/data"
GROUP = 1  # the simulator runs one Raft group
CLUSTER_ID = 1
SEGMENT_SIZE = 8 << 10  # small segments, so that rollover and segment deletion happen in every run


class SimNode:
    def __init__(self, sim: "Simulation", node_id: int, disk: SimDisk, params: NodeParams) -> None:
        self.sim = sim
        self.id = node_id
        self.disk = disk
        self.storage: NodeStorage | None = None
        self.durable = self.open_storage()
        self.params = params
        self.alive = False
        self.incarnation = 0
        self.tick_us = sim.tick_us  # this node's tick period: skew faults make it run fast or slow

    # -- life cycle -------------------------------------------------------------------------------------------------
    def open_storage(self) -> GroupStorage:
        """Recover the node's storage from its disk (raises a ``StorageError`` if the disk is corrupt)."""
        self.storage = NodeStorage.open(
            self.disk, DATA_DIR, cluster_id=CLUSTER_ID, node_id=self.id, segment_size=SEGMENT_SIZE
        )
        return self.storage.group(GROUP)

    def start(self) -> None:
        """Start, or restart from what the disk durably holds."""
        if self.incarnation:
            self.durable = self.open_storage()
        self.incarnation += 1
        self.alive = True
        p = self.params
        snap = self.durable.snapshot()
        if "forget_vote_on_restart" in p.bugs and self.incarnation > 1:
            hs = self.durable.hard_state
            self.durable.set_hard_state(HardState(hs.term, 0, hs.commit))
            self.storage.sync()
        self.sm = KVStateMachine()
        self.sm.restore(snap.data)
        self.conf_state: ConfState = snap.meta.conf_state
        self.snapshot_index = snap.meta.index
        cfg = Config(
            id=self.id,
            storage=self.durable,
            rng=random.Random(self.sim.rng.getrandbits(64)),
            election_tick=p.election_tick,
            heartbeat_tick=p.heartbeat_tick,
            applied=snap.meta.index,
            max_size_per_msg=p.max_size_per_msg,
            max_inflight_msgs=p.max_inflight_msgs,
            snapshot_chunk_size=p.snapshot_chunk_size,
            check_quorum=p.check_quorum,
            pre_vote=p.pre_vote,
            read_only_option=ReadOnlyOption.LEASE_BASED if p.lease_reads else ReadOnlyOption.SAFE,
            # Skew faults run clocks up to 2x apart: the lease must end within half an election timeout.
            max_clock_drift_ticks=p.election_tick // 2 + 1,
            disable_proposal_forwarding=True,
            bugs=p.bugs,
        )
        self.rn = RawNode(cfg)
        self.writing: Ready | None = None  # the Ready whose disk write is in flight
        self.pending_writes: dict[int, int] = {}  # op id -> client id, proposed here
        self.pending_reads: dict[bytes, tuple[int, int, str]] = {}  # ctx -> (client, op id, key)
        self.read_queue: list[tuple[int, bytes]] = []  # (read index, ctx) waiting for apply
        self.last_commit = self.rn.raft.log.committed

    def crash(self, rng: random.Random, torn: bool) -> None:
        """Stop at once. An in-flight write is lost; with ``torn`` part of it reached the disk unsynced, and
        the power loss keeps or tears some of it. ``durable`` is then what recovery finds on the disk."""
        if self.writing is not None and torn and self.writing.entries:
            keep = rng.randrange(len(self.writing.entries))
            if keep:
                self.durable.append(self.writing.entries[:keep])
                self.storage.wal.write([self.storage.take_batch()])
        self.disk.crash(tear=torn)
        self.durable = self.open_storage()
        self.alive = False
        self.writing = None
        self.pending_writes.clear()
        self.pending_reads.clear()
        self.read_queue.clear()

    # -- inputs ------------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        self.rn.tick()

    def client_request(self, client: int, cmd: Command | None, op_id: int, key: str) -> str | None:
        """Start serving a request; returns an error name when it failed at once (nothing was appended)."""
        try:
            if cmd is None:
                ctx = op_id.to_bytes(8, "big")
                self.rn.read_index(ctx)
                self.pending_reads[ctx] = (client, op_id, key)
            else:
                self.rn.propose(encode_command(cmd))
                self.pending_writes[op_id] = client
        except ProposalDroppedError as e:
            return type(e).__name__
        return None

    # -- the Ready loop ----------------------------------------------------------------------------------------------
    def pump(self) -> None:
        """Take the next Ready if the previous write is done: one disk write (group commit) at a time."""
        if not self.alive or self.writing is not None or not self.rn.has_ready():
            return
        rd = self.rn.ready()
        self.sim.observe_soft_state(self)
        if not rd.must_sync and rd.hard_state is None:
            self.writing = rd
            self.finish_write()
            return
        # A new commit index alone need not be synced, but the simulator writes it like the rest: disk
        # latency then stretches the commit path, which widens the windows its faults aim at.
        self.writing = rd
        if "ack_before_persist" in self.params.bugs:
            self.sim.send_all(self, rd.messages)
            rd.messages = []
        self.sim.schedule_disk(self)

    def finish_write(self) -> None:
        rd = self.writing
        assert rd is not None
        if rd.hard_state is not None:
            if rd.hard_state.commit < self.durable.hard_state.commit:
                self.sim.violation(f"node {self.id}: durable commit index went back")
            self.durable.set_hard_state(rd.hard_state)
        if rd.snapshot is not None:
            self.durable.apply_snapshot(rd.snapshot)
            self.sm.restore(rd.snapshot.data)
            self.conf_state = rd.snapshot.meta.conf_state
            self.snapshot_index = rd.snapshot.meta.index
        if rd.entries:
            self._append_durable(rd.entries)
        self.storage.sync()
        self.sim.send_all(self, rd.messages)
        self.read_queue.extend((rs.index, rs.context) for rs in rd.read_states)
        for e in rd.committed_entries:
            self.sim.invariants.on_apply(self.id, e)
            if e.type == EntryType.CONF_CHANGE:
                self.conf_state = self.rn.apply_conf_change(ConfChange.decode(e.data))
            elif e.data:
                op_id, result = self.sm.apply(e.data)
                client = self.pending_writes.pop(op_id, None)
                if client is not None:
                    self.sim.reply(client, op_id, result)
        self.writing = None
        self.rn.advance(rd)
        self.serve_reads()
        self.maybe_snapshot()
        self.sim.invariants.on_node_step(self)
        self.pump()

    def _append_durable(self, entries) -> None:
        self.sim.invariants.on_persist(self.id, entries, self.durable)
        truncates = entries[0].index <= self.durable.last_index()
        self.durable.append(entries)
        if truncates:
            self.sim.check_durability()

    def serve_reads(self) -> None:
        applied = self.rn.raft.log.applied
        keep = []
        for index, ctx in self.read_queue:
            if index <= applied:
                req = self.pending_reads.pop(ctx, None)
                if req is not None:
                    client, op_id, key = req
                    self.sim.reply(client, op_id, self.sm.read(key))
            else:
                keep.append((index, ctx))
        self.read_queue = keep

    def maybe_snapshot(self) -> None:
        applied = self.rn.raft.log.applied
        p = self.params
        if applied - self.snapshot_index < p.snapshot_every:
            return
        self.durable.create_snapshot(applied, self.conf_state, self.sm.snapshot())
        self.snapshot_index = applied
        compact_to = applied - p.keep_entries
        if compact_to >= self.durable.first_index():
            self.durable.compact(compact_to)
        self.storage.sync()

    # -- views -------------------------------------------------------------------------------------------------------
    @property
    def is_leader(self) -> bool:
        return self.alive and self.rn.raft.role == Role.LEADER
