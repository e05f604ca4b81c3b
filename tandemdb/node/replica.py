"""One Raft group hosted on this node: its RawNode, its KV state machine and member table, and the client
requests waiting on it. The ``Node`` owns the replicas and routes events to them.

Writes are queued during a loop turn and proposed together at its end (``flush``), as few Raft entries as
``max_batch_commands`` allows. A proposed entry's index and term are remembered with its waiters; when that
index applies with another term, the entry was overwritten by a new leader and its writes were not applied.

Linearizable reads are queued too, and share one ReadIndex per turn. They are answered once the group has
applied up to the read index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kv import ErrorResult, KVStore, LeaseGrantResult, LeaseRevoke, LeaseRevokeResult, Range, SessionSweep
from ..raft.bugs import BUGS as RAFT_BUGS
from ..raft.config import Config, ReadOnlyOption, Rng
from ..raft.errors import NoLeaderError, NotLeaderError, ProposalDroppedError
from ..raft.rawnode import RawNode, Ready
from ..raft.types import (
    ConfChange,
    ConfChangeSingle,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    MessageType,
    Role,
    SoftState,
)
from ..storage.group_storage import GroupStorage
from ..wire.client_api import (
    Error,
    ErrorKind,
    Member,
    MemberResult,
    MemberStatus,
    Reply,
    SnapshotResult,
    SnapshotSave,
)
from . import commands as gc
from .backup import Backup, encode_backup
from .events import membership_event
from .lease_timer import LeaseTimer
from .stats import GroupStats
from .tracing import EntryTraces
from .waiters import Waiter

if TYPE_CHECKING:
    from .node import Node

# A leader may send these before its own write is durable: it counts itself only once durable (thesis 10.2.1).
_EARLY = frozenset({MessageType.APP, MessageType.HEARTBEAT, MessageType.SNAP})
ReadOp = Range | SnapshotSave


class Replica:
    def __init__(self, node: Node, group: int, storage: GroupStorage, rng: Rng) -> None:
        self.node = node
        self.group = group
        self.storage = storage
        cfg = node.cfg
        self.cfg = cfg
        snap = storage.snapshot()
        self.kv = KVStore()
        self.members: dict[int, Member] = {}
        self._restore(snap.data)
        self.conf_state: ConfState = snap.meta.conf_state
        self.snapshot_index = snap.meta.index
        self.rn = RawNode(
            Config(
                id=cfg.id,
                storage=storage,
                rng=rng,
                election_tick=cfg.election_ticks,
                heartbeat_tick=cfg.heartbeat_ticks,
                applied=snap.meta.index,
                check_quorum=cfg.check_quorum,
                pre_vote=cfg.pre_vote,
                read_only_option=ReadOnlyOption.LEASE_BASED if cfg.lease_reads else ReadOnlyOption.SAFE,
                max_clock_drift_ticks=cfg.max_clock_drift_ticks,
                max_size_per_msg=cfg.max_size_per_msg,
                max_inflight_msgs=cfg.max_inflight_msgs,
                snapshot_chunk_size=cfg.snapshot_chunk_size,
                bugs=cfg.bugs & RAFT_BUGS.keys(),
                # Client writes reaching a follower are redirected before they get here; only the node's own
                # announcements (``PublishMember``) are forwarded to the leader by Raft.
                disable_proposal_forwarding=False,
            )
        )
        self.soft = SoftState()
        self.writing: Ready | None = None
        self.queued: list[tuple[gc.GroupCommand, Waiter | None]] = []
        self.waiting: dict[int, tuple[int, list[Waiter | None]]] = {}  # entry index -> (term, one per command)
        self.conf_waiting: dict[int, tuple[int, Waiter, int]] = {}  # entry index -> (term, waiter, member id)
        self.queued_reads: list[tuple[Waiter, ReadOp]] = []
        self.reads_by_ctx: dict[bytes, list[tuple[Waiter, ReadOp]]] = {}
        self.read_queue: list[tuple[int, list[tuple[Waiter, ReadOp]]]] = []  # (read index, reads)
        self.read_seq = 0
        self.leases = LeaseTimer(1000 / cfg.tick_ms)
        self.transfers: list[tuple[Waiter, int]] = []
        self.publish_at = 0  # the tick at which to announce this node's member record again if needed
        self.sweep_ticks = cfg.ticks(cfg.session_ttl_s * 500)  # SessionSweeps come every half session TTL
        self.sweep_at = 0  # the tick at which the leader proposes the next one
        self.stats = GroupStats()
        self.traces = EntryTraces(group, node.trace)

    # -- state --------------------------------------------------------------------------------------------------------
    @property
    def is_leader(self) -> bool:
        return self.rn.raft.role == Role.LEADER

    @property
    def leader(self) -> int:
        return self.rn.raft.lead

    def member_statuses(self) -> list[MemberStatus]:
        cs = self.conf_state
        ids = sorted(set(cs.voters) | set(cs.learners) | set(cs.voters_outgoing) | set(cs.learners_next))
        learners = set(cs.learners) | set(cs.learners_next)
        return [MemberStatus(self.members.get(i) or Member(i, ""), i in learners) for i in ids]

    def group_state(self) -> bytes:
        return gc.encode(gc.GroupState(self.kv.snapshot(), [self.members[i] for i in sorted(self.members)]))

    def _restore(self, data: bytes) -> None:
        if data:
            state = gc.decode_state(data)
            self.kv.restore(state.kv)
            self.members = {m.id: m for m in state.members}
        else:
            self.kv.restore(b"")
            self.members = {}

    # -- requests -----------------------------------------------------------------------------------------------------
    def not_leader(self) -> Error:
        lead = self.leader
        if not lead:
            return Error(ErrorKind.NO_LEADER, f"group {self.group} has no leader right now; retry shortly")
        endpoint = self.members.get(lead, Member(lead, "")).client
        return Error(ErrorKind.NOT_LEADER, f"node {lead} leads group {self.group}", lead, endpoint)

    def write(self, cmd: gc.GroupCommand, waiter: Waiter | None) -> Error | None:
        if not self.is_leader:
            return self.not_leader()
        self.queued.append((cmd, waiter))
        return None

    def read(self, op: ReadOp, waiter: Waiter) -> Reply | None:
        if not self.leader:
            return self.not_leader()
        if "stale_follower_read" in self.cfg.bugs and not self.is_leader:
            return self.serve_local(op)
        self.queued_reads.append((waiter, op))
        return None

    def change_membership(self, cc: ConfChange, waiter: Waiter, member_id: int) -> Error | None:
        if not self.is_leader:
            return self.not_leader()
        try:
            self.rn.propose_conf_change(cc)
        except ProposalDroppedError as e:
            return _dropped(e)
        self.conf_waiting[self.rn.raft.log.last_index()] = (self.rn.raft.term, waiter, member_id)
        return None

    def transfer(self, target: int, waiter: Waiter) -> Error | None:
        if not self.is_leader:
            return self.not_leader()
        if target == self.cfg.id:
            return None
        if target not in self.conf_state.voters:
            return Error(ErrorKind.BAD_REQUEST, f"node {target} is not a voter of group {self.group}")
        self.rn.transfer_leader(target)
        self.transfers.append((waiter, target))
        return None

    # -- once per loop turn ---------------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Propose the writes queued so far and start the turn's ReadIndex.

        Writes wait while this replica's previous log write is being synced: the Raft messages of a new entry
        could only go out with the next Ready anyway, after that sync, so proposing later costs no time, and
        every write that arrived during the sync shares one entry (one append, one acknowledgement per
        follower) instead of one entry per loop turn."""
        if self.queued and self.writing is None:
            queued, self.queued = self.queued, []
            n = self.cfg.max_batch_commands
            for i in range(0, len(queued), n):
                self._propose(queued[i : i + n])
        if self.queued_reads:
            reads, self.queued_reads = self.queued_reads, []
            if not self.leader:
                err = self.not_leader()
                for waiter, _ in reads:
                    self.node.reply(waiter, err)
                return
            self.read_seq += 1
            ctx = self.read_seq.to_bytes(8, "big")
            self.reads_by_ctx[ctx] = reads
            self.rn.read_index(ctx)

    def _propose(self, batch: list[tuple[gc.GroupCommand, Waiter | None]]) -> None:
        try:
            self.rn.propose(gc.encode([cmd for cmd, _ in batch]))
        except ProposalDroppedError as e:
            err = _dropped(e) if not isinstance(e, NotLeaderError) else self.not_leader()
            self.stats.proposals_failed += sum(w is not None for _, w in batch)
            for _, waiter in batch:
                if waiter is not None:
                    self.node.reply(waiter, err)
            return
        log = self.rn.raft.log
        self.waiting[log.last_index()] = (self.rn.raft.term, [w for _, w in batch])
        if self.node.tracing:
            self.traces.proposed(log.last_index(), self.rn.raft.term, [w.trace for _, w in batch if w and w.trace])

    def take_ready(self) -> bool:
        """Hand the next Ready's writes to storage. True if they must be synced before the Ready finishes;
        Readys with nothing to persist finish at once."""
        while self.writing is None and self.rn.has_ready():
            rd = self.rn.ready()
            if rd.soft_state is not None:
                self._on_soft_state(rd.soft_state)
            self.writing = rd
            if self.traces:
                self.traces.ready(rd)
            if not rd.must_sync:
                if rd.hard_state is not None:
                    self.storage.save(rd.hard_state)  # a new commit index: synced with the next write
                self.finish()
                continue
            durable = self.storage.hard_state
            if "ack_before_persist" in self.cfg.bugs:
                self.node.send(self.group, rd.messages)
                rd.messages = []
            if self.is_leader and (rd.hard_state is None or rd.hard_state.term == durable.term):
                early = [m for m in rd.messages if m.type in _EARLY]
                if early:
                    rd.messages = [m for m in rd.messages if m.type not in _EARLY]
                    self.node.send(self.group, early)
            self.storage.save(rd.hard_state, rd.entries, rd.snapshot)
            return True
        return False

    def finish(self) -> None:
        """The Ready's writes are durable: send its messages, apply what it committed, answer reads."""
        rd = self.writing
        assert rd is not None
        if self.traces:
            self.traces.durable(rd)
        self.node.send(self.group, rd.messages)
        if rd.snapshot is not None and not rd.snapshot.is_empty():
            self._install_snapshot(rd.snapshot.data, rd.snapshot.meta.conf_state, rd.snapshot.meta.index)
        for rs in rd.read_states:
            reads = self.reads_by_ctx.pop(rs.context, None)
            if reads:
                self.read_queue.append((rs.index, reads))
        if rd.committed_entries:
            self._apply(rd.committed_entries)
            if self.traces:
                self.traces.applied(rd.committed_entries, self.is_leader)
        self.writing = None
        self.rn.advance(rd)
        self._serve_reads()
        self._maybe_snapshot()

    # -- applying -------------------------------------------------------------------------------------------------------
    def _apply(self, entries: list[Entry]) -> None:
        if self.cfg.record_applied:
            self.node._out.applied.append((self.group, entries))
        for e in entries:
            if e.type == EntryType.CONF_CHANGE:
                self._apply_conf_change(e)
                continue
            pending = self.waiting.pop(e.index, None)
            waiters = pending[1] if pending is not None and pending[0] == e.term else None
            if pending is not None and waiters is None:
                self._lost(pending[1])
            if e.data:
                results = self._apply_commands(gc.decode_entry(e.data))
                if waiters is not None:
                    for waiter, result in zip(waiters, results):
                        if waiter is not None:
                            self.node.reply(waiter, result)

    def _apply_commands(self, cmds: list[gc.GroupCommand]) -> list[Reply]:
        results: list[Reply] = []
        run: list = []
        for cmd in cmds + [None]:  # None ends the last run of KV commands
            if cmd is not None and not isinstance(cmd, gc.PublishMember):
                run.append(cmd)
                continue
            if run:
                kv_results, events = self.kv.apply(run)
                self._after_kv(run, kv_results, events)
                results.extend(kv_results)
                run = []
            if cmd is not None:
                if self._in_config(cmd.member.id):
                    self.members[cmd.member.id] = cmd.member
                    self.node.members_changed()
                results.append(None)
        return results

    def _after_kv(self, cmds, results, events) -> None:
        if events:
            self.node.publish(self.group, events, self.kv.revision)
        if self.is_leader:
            now = self.node.now
            for cmd, result in zip(cmds, results):
                if isinstance(result, LeaseGrantResult):
                    self.leases.start(result.id, result.ttl_s, now)
                elif isinstance(cmd, LeaseRevoke) and isinstance(result, (LeaseRevokeResult, ErrorResult)):
                    self.leases.forget(cmd.id)  # revoked, or already gone

    def _apply_conf_change(self, e: Entry) -> None:
        cc = ConfChange.decode(e.data)
        self.conf_state = self.rn.apply_conf_change(cc)
        for change in cc.changes:
            if change.type == ConfChangeType.REMOVE_NODE:
                self.members.pop(change.node_id, None)
            elif cc.context:
                member = gc.decode_member(cc.context)
                if member.id == change.node_id:
                    self.members[member.id] = member
        self.node.members_changed()
        self.node.note(membership_event(self.group, e.term, cc, self.conf_state))
        adds = any(c.type != ConfChangeType.REMOVE_NODE for c in cc.changes)
        if adds and e.index > self.snapshot_index:
            # A new member that needs a snapshot must find itself in it: Raft ignores a snapshot whose
            # configuration lacks the receiver, and the last one may predate this change.
            self._save_snapshot(e.index)
        pending = self.conf_waiting.pop(e.index, None)
        if pending is not None:
            term, waiter, member_id = pending
            if term != e.term:
                self._lost([waiter])
            else:
                member = self.members.get(member_id) or Member(member_id, "")
                self.node.reply(waiter, MemberResult(member, self.member_statuses()))

    def _in_config(self, node_id: int) -> bool:
        cs = self.conf_state
        return node_id in cs.voters or node_id in cs.learners or node_id in cs.learners_next

    def _install_snapshot(self, data: bytes, conf_state: ConfState, index: int) -> None:
        self._restore(data)
        self.conf_state = conf_state
        self.snapshot_index = index
        self.stats.snapshots_installed += 1
        self.traces.forget_through(index)
        self.node.members_changed()
        for i in [i for i in self.waiting if i <= index]:
            self._lost(self.waiting.pop(i)[1], unknown=True)
        self.node.resync_watches(self.group)

    def _lost(self, waiters: list[Waiter | None], unknown: bool = False) -> None:
        if unknown:
            err = Error(ErrorKind.TIMEOUT, "the outcome is unknown: this node skipped ahead with a snapshot")
        else:
            err = Error(ErrorKind.UNAVAILABLE, "leadership changed before the request committed; it was not applied")
        for waiter in waiters:
            if waiter is not None:
                self.stats.proposals_failed += 1
                self.node.reply(waiter, err)

    def _serve_reads(self) -> None:
        applied = self.rn.raft.log.applied
        while self.read_queue and self.read_queue[0][0] <= applied:  # read indexes never decrease
            _, reads = self.read_queue.pop(0)
            for waiter, op in reads:
                self.node.reply(waiter, self.serve_local(op))

    def serve_local(self, op: ReadOp) -> Reply:
        if isinstance(op, Range):
            return self.kv.range(op)
        applied = self.rn.raft.log.applied
        backup = Backup(
            cluster_id=self.cfg.cluster_id,
            group=self.group,
            index=applied,
            revision=self.kv.revision,
            conf_state=self.conf_state,
            state=self.group_state(),
        )
        return SnapshotResult(applied, self.kv.revision, encode_backup(backup))

    def _maybe_snapshot(self) -> None:
        applied = self.rn.raft.log.applied
        if applied - self.snapshot_index < self.cfg.snapshot_every:
            return
        self._save_snapshot(applied)
        compact_to = applied - self.cfg.keep_entries
        if compact_to >= self.storage.first_index():
            self.storage.compact(compact_to)

    def _save_snapshot(self, index: int) -> None:
        """Snapshot the state as applied through ``index``."""
        self.storage.create_snapshot(index, self.conf_state, self.group_state())
        self.stats.snapshots_saved += 1
        self.node.need_sync()
        self.snapshot_index = index

    def all_waiters(self) -> list[Waiter]:
        """Every request still waiting here; they are dropped (the node is failing)."""
        out = [w for _, w in self.queued if w is not None]
        out += [w for _, ws in self.waiting.values() for w in ws if w is not None]
        out += [w for _, w, _ in self.conf_waiting.values()]
        out += [w for reads in self.reads_by_ctx.values() for w, _ in reads]
        out += [w for _, reads in self.read_queue for w, _ in reads]
        out += [w for w, _ in self.queued_reads]
        out += [w for w, _ in self.transfers]
        self.queued, self.waiting, self.conf_waiting, self.reads_by_ctx = [], {}, {}, {}
        self.read_queue, self.queued_reads, self.transfers = [], [], []
        return out

    # -- time and leadership ---------------------------------------------------------------------------------------------
    def tick(self, now: int) -> None:
        self.rn.tick()
        self._expire(now)
        if self.is_leader:
            retry = self.cfg.ticks(1000)
            for lease_id in self.leases.expired(now, retry):
                self.queued.append((LeaseRevoke(lease_id), None))
            if now >= self.sweep_at:
                self.sweep_at = now + self.sweep_ticks
                self.queued.append((SessionSweep(), None))
        self._maybe_publish(now)

    def _expire(self, now: int) -> None:
        if any(w is not None and w.deadline <= now for _, w in self.queued):
            late = Error(ErrorKind.UNAVAILABLE, "not applied: the log write before it did not finish in time")
            kept = []
            for cmd, w in self.queued:
                if w is not None and w.deadline <= now:
                    self.stats.proposals_failed += 1
                    self.node.reply(w, late)
                else:
                    kept.append((cmd, w))
            self.queued = kept
        timeout = Error(ErrorKind.TIMEOUT, "no answer in time; a write may or may not have been applied")
        for _, waiters in self.waiting.values():
            for i, w in enumerate(waiters):
                if w is not None and w.deadline <= now:
                    self.stats.proposals_failed += 1
                    self.node.reply(w, timeout)
                    waiters[i] = None
        for index, (term, w, member_id) in list(self.conf_waiting.items()):
            if w.deadline <= now:
                del self.conf_waiting[index]
                self.stats.proposals_failed += 1
                self.node.reply(w, timeout)
        read_timeout = Error(ErrorKind.TIMEOUT, "the read found no quorum in time")
        for ctx, reads in list(self.reads_by_ctx.items()):
            kept = [(w, op) for w, op in reads if w.deadline > now]
            for w, _ in reads:
                if w.deadline <= now:
                    self.node.reply(w, read_timeout)
            if kept:
                self.reads_by_ctx[ctx] = kept
            else:
                del self.reads_by_ctx[ctx]
        kept_transfers = []
        for w, target in self.transfers:
            if w.deadline <= now:
                self.node.reply(w, Error(ErrorKind.TIMEOUT, f"leadership did not move to node {target} in time"))
            else:
                kept_transfers.append((w, target))
        self.transfers = kept_transfers

    def _maybe_publish(self, now: int) -> None:
        """Announce this node's addresses and labels through the log when the group's record differs."""
        me = self.cfg.member
        if now < self.publish_at or not self.leader or self.members.get(me.id) == me or not self._in_config(me.id):
            return
        self.publish_at = now + self.cfg.ticks(2000)  # try again then if it has not applied
        if self.is_leader:
            self.queued.append((gc.PublishMember(me), None))
            return
        try:
            self.rn.propose(gc.encode([gc.PublishMember(me)]))  # Raft forwards it to the leader
        except ProposalDroppedError:
            pass

    def _on_soft_state(self, soft: SoftState) -> None:
        was_leader = self.soft.role == Role.LEADER
        previous_leader = self.soft.leader
        self.soft = soft
        now_leader = soft.role == Role.LEADER
        if now_leader and not was_leader:
            now = self.node.now
            for info in self.kv.leases():
                self.leases.start(info.id, info.ttl_s, now)
            self.sweep_at = now + self.sweep_ticks  # a new leader waits a full period, as for leases
            self.publish_at = 0
        elif was_leader and not now_leader:
            self.leases.clear()
            err = self.not_leader()
            for _, waiter in self.queued:
                if waiter is not None:
                    self.stats.proposals_failed += 1
                    self.node.reply(waiter, err)
            self.queued = []
        if self.transfers:
            done = [(w, t) for w, t in self.transfers if soft.leader == t]
            self.transfers = [(w, t) for w, t in self.transfers if soft.leader != t]
            for w, _ in done:
                self.node.ok(w)
        if soft.leader != previous_leader:
            self.node.leader_changed(self.group, soft.leader)

    # -- membership requests ---------------------------------------------------------------------------------------------
    def next_member_id(self) -> int:
        cs = self.conf_state
        known = set(self.members) | set(cs.voters) | set(cs.learners) | set(cs.voters_outgoing)
        return max(known, default=0) + 1

    def promotion_error(self, node_id: int) -> Error | None:
        if node_id not in self.conf_state.learners:
            return Error(ErrorKind.BAD_REQUEST, f"node {node_id} is not a learner of group {self.group}")
        pr = self.rn.raft.tracker.progress.get(node_id)
        need = int(self.rn.raft.log.committed * self.cfg.promote_min_ratio)
        if pr is None or pr.match < need:
            have = 0 if pr is None else pr.match
            return Error(
                ErrorKind.UNAVAILABLE,
                f"learner {node_id} has not caught up yet (log index {have} of {self.rn.raft.log.committed}); retry",
            )
        return None


def add_change(node_id: int, learner: bool, member: Member | None) -> ConfChange:
    kind = ConfChangeType.ADD_LEARNER if learner else ConfChangeType.ADD_NODE
    context = gc.encode(member) if member is not None else b""
    return ConfChange((ConfChangeSingle(kind, node_id),), context=context)


def remove_change(node_id: int) -> ConfChange:
    return ConfChange((ConfChangeSingle(ConfChangeType.REMOVE_NODE, node_id),))


def _dropped(e: ProposalDroppedError) -> Error:
    """A proposal refused before it reached any log: always safe to retry."""
    return Error(ErrorKind.NO_LEADER if isinstance(e, NoLeaderError) else ErrorKind.UNAVAILABLE, str(e))
