"""``Group``: the generic driver of one Raft group hosted on this node. It runs the Ready loop (persist, send,
apply, advance), keeps client sessions, and serves one state machine through ``tandemdb.state_machine``,
knowing nothing else of it. Waiting writes, reads and member changes are kept by ``Proposals``, ``Reads`` and
``Membership``; everything the group has to say goes into its ``GroupOutput``, which the node collects.

Invariants asserted on every path (a broken one raises ``InvariantError``, and the shell stops the process):
committed entries apply in index order with no gap, each entry yields one result per proposal, a Ready is
finished only while it is the one being written, and a snapshot never moves the applied index backwards.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..raft.bugs import BUGS as RAFT_BUGS
from ..raft.config import Config, ReadOnlyOption, Rng
from ..raft.errors import ProposalDroppedError
from ..raft.rawnode import RawNode, Ready
from ..raft.types import (
    ConfChange,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    Message,
    MessageType,
    Role,
    Snapshot,
    SoftState,
)
from ..state_machine import MachineStats, StateMachine
from ..storage.group_storage import GroupStorage
from ..wire.client_api import Error, ErrorKind, Member, MemberStatus, SnapshotResult, SnapshotSave
from ..wire.peer import GroupMessage
from . import commands as gc
from .backup import Backup, encode_backup
from .config import NodeConfig
from .events import leader_event
from .group_output import GroupOutput
from .membership import Membership
from .proposals import Proposals, _dropped
from .reads import Reads
from .sessions import SessionTable
from .stats import GroupStats
from .tracing import EntryTraces
from .waiters import Waiter

_DRIVER_COMMANDS = frozenset({gc.SessionSweep, gc.PublishMember})  # applied by the driver, not the machine

# A leader may send these before its own write is durable: it counts itself only once durable (thesis 10.2.1).
_EARLY = frozenset({MessageType.APP, MessageType.HEARTBEAT, MessageType.SNAP})


class GroupInfo(NamedTuple):
    """What the shell shows of a group (metrics, console, readiness): read, never changed."""

    group: int
    leader: int  # 0: none known
    is_leader: bool
    term: int
    commit: int
    applied: int
    pending_writes: int  # client writes queued or proposed, not yet answered
    quiesced: bool  # asleep: idle and in sync, not ticking
    stats: GroupStats
    machine: MachineStats
    members: list[MemberStatus]


class InvariantError(AssertionError):
    """A broken invariant of the node core: the process must stop (fail-stop), never go on wedged or wrong."""


def invariant(ok: bool, message: str) -> None:
    if not ok:
        raise InvariantError(message)


class Group:
    def __init__(self, cfg: NodeConfig, group: int, storage: GroupStorage, rng: Rng, machine: StateMachine) -> None:
        self.cfg = cfg
        self.group = group
        self.storage = storage
        self.sm = machine
        self.codec = gc.EntryCodec(machine.command_type)
        self.sessions = SessionTable(machine.result_type)
        self.out = GroupOutput()
        self.stats = GroupStats()
        self.traces = EntryTraces(group, lambda point: self.out.traces.append(point))
        self.tracing = False  # set by the node: note the trace points of traced writes
        self.proposals = Proposals(self.out, self.stats, cfg.max_batch_commands)
        self.reads = Reads(self.out)
        snap = storage.snapshot()
        self.membership = Membership(group, self.out, snap.meta.conf_state, [])
        self._restore(snap.data)
        self.snapshot_index = snap.meta.index
        self.applied = snap.meta.index  # the last index applied to the state machine
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
        self.writing: Ready | None = None  # the Ready whose writes are being made durable
        self.sync_needed = False  # a snapshot marker was logged outside a Ready: sync with the next write
        self.now = 0  # the node's tick count, as of the last tick
        self.sweep_ticks = cfg.ticks(cfg.session_ttl_s * 500)  # SessionSweeps come every half session TTL
        self.sweep_at = 0  # the tick at which the leader proposes the next one
        self.quiesced = False  # asleep: not ticked until a message or a request wakes it (see ``_maybe_quiesce``)
        self._quiet_ticks = 0  # ticks the leader has found the group idle and in sync

    # -- what the node asks -----------------------------------------------------------------------------------------
    @property
    def is_leader(self) -> bool:
        return self.rn.raft.role == Role.LEADER

    @property
    def leader(self) -> int:
        return self.rn.raft.lead

    @property
    def conf_state(self) -> ConfState:
        return self.membership.conf_state

    def info(self) -> GroupInfo:
        raft = self.rn.raft
        writes = self.proposals.pending_writes()
        return GroupInfo(self.group, raft.lead, self.is_leader, raft.term, raft.log.committed, self.applied, writes,
                         self.quiesced, self.stats, self.sm.stats(), self.membership.statuses())

    def pending(self) -> int:
        """Requests waiting here for an answer."""
        return len(self.proposals) + len(self.reads) + len(self.membership)

    def not_leader(self) -> Error:
        lead = self.leader
        if not lead:
            return Error(ErrorKind.NO_LEADER, f"group {self.group} has no leader right now; retry shortly")
        endpoint = self.membership.members.get(lead, Member(lead, "")).client
        return Error(ErrorKind.NOT_LEADER, f"node {lead} leads group {self.group}", lead, endpoint)

    def handover_target(self) -> int | None:
        """The most up-to-date other voter, if this replica leads and there is one."""
        if not self.is_leader:
            return None
        progress = self.rn.raft.tracker.progress
        voters = [v for v in self.conf_state.voters if v != self.cfg.id and v in progress]
        return max(voters, key=lambda v: progress[v].match) if voters else None

    def unreachable(self, peer: int) -> None:
        """A peer cannot be reached: a leader stops streaming appends to it until it answers again."""
        self.rn.report_unreachable(peer)

    def hand_over(self) -> None:
        """Transfer leadership to the most up-to-date other voter, if this replica leads and there is one."""
        target = self.handover_target()
        if target is not None:
            self.rn.transfer_leader(target)

    def trace_receive(self, gm: GroupMessage) -> None:
        """Tracing: note what a peer's message says of traced entries (received, or acknowledged)."""
        if gm.traces:
            self.traces.received(gm)
        if self.traces:
            progress = self.rn.raft.tracker.progress
            pr = progress.get(gm.msg.frm)
            if pr is not None:
                self.traces.acked(gm.msg, pr.match, [p.match for p in progress.values()])

    def progress_of(self, node_id: int) -> int | None:
        """How far ``node_id``'s log matches this leader's (None if not tracked)."""
        pr = self.rn.raft.tracker.progress.get(node_id)
        return None if pr is None else pr.match

    # -- requests -------------------------------------------------------------------------------------------------
    def write(self, cmd: Any, waiter: Waiter | None, client_id: int = 0, seq: int = 0) -> Error | None:
        if not self.is_leader:
            return self.not_leader()
        self.proposals.queue(gc.Proposal(cmd, client_id, seq), waiter)
        return None

    def read(self, op: Any, waiter: Waiter) -> Any | None:
        if not self.leader:
            return self.not_leader()
        if "stale_follower_read" in self.cfg.bugs and not self.is_leader:
            return self.serve_local(op)
        self.reads.queue(waiter, op)
        return None

    def serve_local(self, op: Any) -> Any:
        """Answer a read from the applied state."""
        if type(op) is not SnapshotSave:
            return self.sm.read(op)
        revision = self.sm.stats().revision
        backup = Backup(
            cluster_id=self.cfg.cluster_id,
            group=self.group,
            index=self.applied,
            revision=revision,
            conf_state=self.conf_state,
            state=self.group_state(),
        )
        return SnapshotResult(self.applied, revision, encode_backup(backup))

    def change_membership(self, cc: ConfChange, waiter: Waiter, member_id: int) -> Error | None:
        if not self.is_leader:
            return self.not_leader()
        try:
            self.membership.propose(self.rn, cc, waiter, member_id)
        except ProposalDroppedError as e:
            return _dropped(e)
        return None

    def transfer(self, target: int, waiter: Waiter) -> Error | None:
        if not self.is_leader:
            return self.not_leader()
        if target not in self.conf_state.voters:
            return Error(ErrorKind.BAD_REQUEST, f"node {target} is not a voter of group {self.group}")
        self.rn.transfer_leader(target)
        self.membership.transfers.append((waiter, target))
        return None

    def promotion_error(self, node_id: int) -> Error | None:
        if node_id not in self.conf_state.learners:
            return Error(ErrorKind.BAD_REQUEST, f"node {node_id} is not a learner of group {self.group}")
        committed = self.rn.raft.log.committed
        have = self.progress_of(node_id) or 0
        if have < int(committed * self.cfg.promote_min_ratio):
            return Error(
                ErrorKind.UNAVAILABLE,
                f"learner {node_id} has not caught up yet (log index {have} of {committed}); retry",
            )
        return None

    # -- once per loop turn -----------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Propose the writes queued so far and start the turn's ReadIndex.

        Writes wait while this group's previous log write is being synced: the Raft messages of a new entry
        could only go out with the next Ready anyway, after that sync, so proposing later costs no time, and
        every write that arrived during the sync shares one entry (one append, one acknowledgement per
        follower) instead of one entry per loop turn."""
        if self.proposals.queued and self.writing is None:
            for index, term, waiters in self.proposals.propose(self.rn, self.not_leader):
                if self.tracing:
                    self.traces.proposed(index, term, [w.trace for w in waiters if w and w.trace])
        if self.reads.queued:
            self.reads.start(self.rn, None if self.leader else self.not_leader())

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
                self.out.messages.extend(rd.messages)
                rd.messages = []
            if self.is_leader and (rd.hard_state is None or rd.hard_state.term == durable.term):
                early = [m for m in rd.messages if m.type in _EARLY]
                if early:
                    rd.messages = [m for m in rd.messages if m.type not in _EARLY]
                    self.out.messages.extend(early)
            self.storage.save(rd.hard_state, rd.entries, rd.snapshot)
            return True
        return False

    def finish(self) -> None:
        """The Ready's writes are durable: send its messages, apply what it committed, answer reads."""
        rd = self.writing
        invariant(rd is not None, f"group {self.group}: a write finished while none was in flight")
        assert rd is not None
        if self.traces:
            self.traces.durable(rd)
        self.out.messages.extend(rd.messages)
        if rd.snapshot is not None and not rd.snapshot.is_empty():
            self._install_snapshot(rd.snapshot)
        self.reads.confirmed(rd.read_states)
        if rd.committed_entries:
            self._apply(rd.committed_entries)
            if self.traces:
                self.traces.applied(rd.committed_entries, self.is_leader)
        self.writing = None
        self.rn.advance(rd)
        invariant(self.rn.raft.log.applied == self.applied, f"group {self.group}: Raft and the state machine disagree "
                  f"on the applied index ({self.rn.raft.log.applied} != {self.applied})")
        if "read_before_apply" in self.cfg.bugs:
            self.reads.serve(1 << 62, self.serve_local)
        else:
            self.reads.serve(self.applied, self.serve_local)
        self._maybe_snapshot()

    # -- applying -----------------------------------------------------------------------------------------------------
    def _apply(self, entries: list[Entry]) -> None:
        if self.cfg.record_applied:
            self.out.applied.extend(entries)
        for e in entries:
            invariant(e.index == self.applied + 1, f"group {self.group}: entry {e.index} applied after {self.applied}")
            self.applied = e.index
            if e.type == EntryType.CONF_CHANGE:
                self._apply_conf_change(e)
                continue
            waiters = self.proposals.applied(e.index, e.term)
            if not e.data:
                continue
            proposals = self.codec.decode(e.data)
            results = self._apply_proposals(proposals)
            invariant(len(results) == len(proposals), f"group {self.group}: entry {e.index} gave "
                      f"{len(results)} results for {len(proposals)} proposals")
            if waiters is not None:
                invariant(len(waiters) == len(results), f"group {self.group}: entry {e.index} has "
                          f"{len(results)} results for {len(waiters)} waiters")
                for waiter, result in zip(waiters, results, strict=True):
                    self.out.reply(waiter, result)

    def _apply_proposals(self, proposals: list[gc.Proposal]) -> list[Any]:
        """Apply one entry: the machine's commands in runs (one ``apply`` call each), the driver's own between.

        A proposal whose session already applied its seq gets the stored answer. A run ends before a second
        write of a client it holds, so that the second sees the first's session record."""
        results: list[Any] = [None] * len(proposals)
        run: list[int] = []  # positions of the machine commands of the current run
        clients: set[int] = set()
        replay = "duplicate_retry" not in self.cfg.bugs
        sessions = self.sessions
        for i, p in enumerate(proposals):
            cmd, client = p.cmd, p.client_id
            driver = type(cmd) in _DRIVER_COMMANDS
            if run and (driver or client in clients):
                self._apply_run(proposals, run, results)
                run, clients = [], set()
            if driver:
                if type(cmd) is gc.SessionSweep:
                    sessions.sweep()
                else:
                    self.membership.publish(cmd.member)
                continue
            if client:
                if replay and not sessions.is_new(client, p.seq):
                    results[i] = sessions.replay(client, p.seq)
                    continue
                clients.add(client)
            run.append(i)
        if run:
            self._apply_run(proposals, run, results)
        return results

    def _apply_run(self, proposals: list[gc.Proposal], run: list[int], results: list[Any]) -> None:
        cmds = [proposals[i].cmd for i in run]
        outcome, changes = self.sm.apply(cmds)
        invariant(len(outcome) == len(cmds), f"group {self.group}: {len(outcome)} results for {len(cmds)} commands")
        for i, result in zip(run, outcome, strict=True):
            results[i] = result
            p = proposals[i]
            if p.client_id:
                self.sessions.record(p.client_id, p.seq, result)
        if changes:
            self.out.changes.append(changes)
        if self.is_leader:
            self.sm.leader_applied(cmds, outcome, self.now)

    def _apply_conf_change(self, e: Entry) -> None:
        cc = self.membership.apply_change(self.rn, e)
        adds = any(c.type != ConfChangeType.REMOVE_NODE for c in cc.changes)
        if adds and e.index > self.snapshot_index:
            # A new member that needs a snapshot must find itself in it: Raft ignores a snapshot whose
            # configuration lacks the receiver, and the last one may predate this change.
            self._save_snapshot(e.index)

    # -- snapshots -----------------------------------------------------------------------------------------------------
    def group_state(self) -> bytes:
        state = gc.GroupState(self.sm.snapshot(), self.membership.table(), self.sessions.snapshot())
        return gc.encode(state)

    def _restore(self, data: bytes) -> list[Member]:
        state = gc.decode_state(data) if data else gc.GroupState(b"", [])
        self.sm.restore(state.machine)
        self.sessions.restore(state.sessions)
        self.membership.members = {m.id: m for m in state.members}
        return state.members

    def _install_snapshot(self, snap: Snapshot) -> None:
        index = snap.meta.index
        invariant(index >= self.applied, f"group {self.group}: a snapshot at {index} would undo applied {self.applied}")
        members = self._restore(snap.data)
        self.membership.reset(snap.meta.conf_state, members)
        self.snapshot_index = self.applied = index
        self.stats.snapshots_installed += 1
        self.traces.forget_through(index)
        self.proposals.skipped_through(index)
        self.out.resync = True

    def _maybe_snapshot(self) -> None:
        if self.applied - self.snapshot_index < self.cfg.snapshot_every:
            return
        self._save_snapshot(self.applied)
        compact_to = self.applied - self.cfg.keep_entries
        if compact_to >= self.storage.first_index():
            self.storage.compact(compact_to)

    def _save_snapshot(self, index: int) -> None:
        """Snapshot the state as applied through ``index``."""
        self.storage.create_snapshot(index, self.conf_state, self.group_state())
        self.stats.snapshots_saved += 1
        self.sync_needed = True
        self.snapshot_index = index

    def take_all_waiters(self) -> list[Waiter]:
        """Every request still waiting here; they are dropped (the node is failing)."""
        return self.proposals.take_all() + self.reads.take_all() + self.membership.take_all()

    # -- time and leadership -------------------------------------------------------------------------------------------
    def step(self, gm: GroupMessage) -> None:
        """A peer's message. Anything but a heartbeat response wakes a quiet group; a quiesce heartbeat from the
        leader puts a follower that holds every committed entry to sleep."""
        m = gm.msg
        if gm.quiesce:
            self.rn.step(m)
            raft = self.rn.raft
            if raft.role == Role.FOLLOWER and raft.lead == m.frm and raft.log.committed == raft.log.last_index():
                self.quiesced = True
            return
        if self.quiesced and m.type != MessageType.HEARTBEAT_RESP:
            self.wake()
        self.rn.step(m)

    def alarm(self) -> int | None:
        """The tick at which this quiet group must wake by itself: its leader's next session sweep, if any
        session is left to expire. None: only an event wakes it."""
        return self.sweep_at if self.is_leader and len(self.sessions) else None

    def wake(self) -> None:
        self.quiesced = False
        self._quiet_ticks = 0

    def tick(self, now: int) -> None:
        self.now = now
        if self._maybe_quiesce():
            return
        self.rn.tick()
        self.proposals.expire(now)
        self.stats.proposals_failed += self.membership.expire(now)
        self.reads.expire(now)
        if self.is_leader:
            for cmd in self.sm.leader_tick(now):
                self.proposals.queue(gc.Proposal(cmd), None)
            if now >= self.sweep_at:
                self.sweep_at = now + self.sweep_ticks
                self.proposals.queue(gc.Proposal(gc.SessionSweep()), None)
        self._maybe_publish(now)

    def _maybe_quiesce(self) -> bool:
        """Quiescence (CockroachDB's, TiKV's hibernation): a leader whose group has been idle and fully in sync
        for ``quiesce_ticks`` ticks sends each replica a last heartbeat marked ``quiesce`` and stops ticking;
        a follower that gets it stops too. An idle group then costs no CPU and no messages. Any message but a
        heartbeat response, any request, or its leader's node becoming unreachable wakes it. Never with lease
        reads: a lease counts ticks, and a sleeping leader's ticks stop while real time goes on."""
        if not self.cfg.quiesce_ticks or self.cfg.lease_reads or not self._idle_in_sync():
            self._quiet_ticks = 0
            return False
        self._quiet_ticks += 1
        if self._quiet_ticks < self.cfg.quiesce_ticks:
            return False
        raft = self.rn.raft
        for peer in sorted(raft.tracker.progress):
            if peer != self.cfg.id:
                hb = Message(type=MessageType.HEARTBEAT, to=peer, frm=self.cfg.id, term=raft.term,
                             commit=raft.log.committed)
                self.out.quiesce.append(hb)
        self.quiesced = True
        return True

    def _idle_in_sync(self) -> bool:
        """A leader with nothing to do: every replica holds every entry, all committed and applied, no request
        waits, no change or transfer is under way, and the machine runs no timer."""
        raft = self.rn.raft
        if not self.is_leader or self.pending() or self.writing is not None or self.rn.has_ready():
            return False
        last = raft.log.last_index()
        if raft.log.committed != last or self.applied != last or raft.lead_transferee:
            return False
        if self.conf_state.voters_outgoing or self.sm.leader_timers():
            return False
        return all(pr.match == last for pr in raft.tracker.progress.values())

    def _maybe_publish(self, now: int) -> None:
        """Announce this node's addresses and labels through the log when the group's record differs."""
        me = self.cfg.member
        ms = self.membership
        if now < ms.publish_at or not self.leader or ms.members.get(me.id) == me or not ms.in_config(me.id):
            return
        ms.publish_at = now + self.cfg.ticks(2000)  # try again then if it has not applied
        if self.is_leader:
            self.proposals.queue(gc.Proposal(gc.PublishMember(me)), None)
            return
        try:
            self.rn.propose(gc.encode([gc.Proposal(gc.PublishMember(me))]))  # Raft forwards it to the leader
        except ProposalDroppedError:
            pass

    def _on_soft_state(self, soft: SoftState) -> None:
        was_leader = self.soft.role == Role.LEADER
        previous_leader = self.soft.leader
        self.soft = soft
        now_leader = soft.role == Role.LEADER
        if now_leader and not was_leader:
            self.sm.lead(self.now)
            self.sweep_at = self.now + self.sweep_ticks  # a new leader waits a full period, as for leases
            self.membership.publish_at = 0
        elif was_leader and not now_leader:
            self.sm.unlead()
            self.proposals.fail_queued(self.not_leader())
        self.membership.leader_changed(soft.leader)
        if soft.leader != previous_leader:
            if soft.leader:
                self.stats.leader_changes += 1
            self.out.log.append(leader_event(self.group, self.rn.raft.term, soft.leader))
