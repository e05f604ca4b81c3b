"""``Node``: every Raft group this node hosts, behind one event-in, actions-out interface.

The shell's loop, once per turn: feed events (``tick``, ``receive``, ``request``, ``persisted``, ...), then
call ``drain`` and carry out the ``Output``: send each destination its messages in one frame, make ``batch``
durable if ``persist`` is set (calling ``persisted(persist, error)`` once it is), and write the replies to
their connections. Batches must be made durable in the order they were drained.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from msgspec.structs import replace

from .. import __version__
from ..kv import Compact, DeleteRange, LeaseGrant, LeaseRevoke, Put, Range, Txn
from ..raft.bootstrap import bootstrap
from ..raft.config import Rng
from ..raft.types import Entry, HardState, Message, Role
from ..storage.node_storage import NodeStorage
from ..storage.record import WriteBatch
from ..wire.client_api import (
    Error,
    ErrorKind,
    LeaseKeepAlive,
    LeaseList,
    LeaseListResult,
    LeaseTimeToLive,
    LeaseTTLResult,
    Member,
    MemberAdd,
    MemberList,
    MemberListResult,
    MemberPromote,
    MemberRemove,
    MoveLeader,
    OkResult,
    Reply,
    Request,
    Response,
    SnapshotSave,
    Status,
    StatusResult,
    WatchCancel,
    WatchCreate,
)
from ..wire.peer import GroupMessage
from . import commands as gc
from .bugs import check_bugs
from .config import DATA_GROUP, NodeConfig
from .events import NodeEvent, leader_event
from .replica import Replica, add_change, remove_change
from .shards import ShardMap
from .tracing import TracePoint
from .waiters import Waiter
from .watches import WatchHub

_WRITES = (Put, DeleteRange, Txn, LeaseGrant, LeaseRevoke, Compact)


@dataclass
class Output:
    messages: dict[int, list[GroupMessage]] = field(default_factory=dict)  # destination node -> its messages
    persist: int = 0  # nonzero: make ``batch`` durable, then call ``persisted(persist, err)``
    batch: WriteBatch | None = None  # the log records (of every group) to write and sync, set with ``persist``
    replies: list[tuple[int, Response]] = field(default_factory=list)  # (connection, response)
    log: list[NodeEvent] = field(default_factory=list)  # notable events, for the node's log
    traces: list[TracePoint] = field(default_factory=list)  # steps of traced requests (``node/tracing.py``)
    applied: list[tuple[int, list[Entry]]] = field(default_factory=list)  # (group, entries): cfg.record_applied


class Node:
    def __init__(
        self,
        cfg: NodeConfig,
        storage: NodeStorage,
        rng: Rng,
        *,
        initial_members: list[Member] | None = None,
        peers: dict[int, str] | None = None,
    ) -> None:
        """``initial_members``: the voters of a new cluster, used only if this node has no state yet (a node
        joining an existing cluster passes None). ``peers``: peer addresses known before the log tells them."""
        check_bugs(cfg.bugs)
        self.cfg = cfg
        self.storage = storage
        self.now = 0  # ticks since start
        self.shards = ShardMap()
        self.watches = WatchHub(cfg.max_watch_events)
        self.peers: dict[int, str] = dict(peers or {})
        self.stopping = False
        self.failed: BaseException | None = None  # set when the log could not be written
        self._out = Output()
        self._token = 0
        self._inflight: dict[int, list[Replica]] = {}
        self._sync_needed = False
        self.tracing = False  # set by the shell: follow requests that carry a traceparent
        self.replicas: dict[int, Replica] = {}
        for group in sorted(set(storage.group_ids()) | set(self.shards.groups())):
            gs = storage.group(group)
            fresh = gs.last_index() == 0 and gs.snapshot().is_empty()
            if fresh and initial_members:
                # Every founding node must write the same log: only ids and peer addresses go in; each
                # member then announces its other addresses and labels through the log (``PublishMember``).
                contexts = {m.id: gc.encode(Member(m.id, m.peer)) for m in initial_members}
                bootstrap(gs, contexts.keys(), contexts)
                self._sync_needed = True
            elif not fresh and "forget_vote_on_restart" in cfg.bugs:
                hs = gs.hard_state
                gs.set_hard_state(HardState(hs.term, 0, hs.commit))
            self.replicas[group] = Replica(self, group, gs, rng)
        self.members_changed()

    # -- events ---------------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        self.now += 1
        for rep in self.replicas.values():
            rep.tick(self.now)

    def receive(self, msgs: list[GroupMessage]) -> None:
        for gm in msgs:
            rep = self.replicas.get(gm.group)
            if rep is not None and gm.msg.to == self.cfg.id:
                if self.tracing:
                    self._trace_receive(rep, gm)
                rep.rn.step(gm.msg)

    def unreachable(self, peer: int) -> None:
        for rep in self.replicas.values():
            rep.rn.report_unreachable(peer)

    def disconnect(self, conn: int) -> None:
        self.watches.drop_connection(conn)

    def persisted(self, token: int, error: BaseException | None) -> None:
        """The writes of ``Output.persist == token`` are durable (or failed with ``error``)."""
        reps = self._inflight.pop(token)
        if error is not None:
            self._fail(error)
            return
        for rep in reps:
            rep.finish()

    def _fail(self, error: BaseException) -> None:
        """The log could not be written: answer every waiting request, then serve nothing more. The shell
        sees ``failed`` after the next ``drain`` and stops the process; a restart replays the log."""
        self.failed = error
        err = Error(ErrorKind.STORAGE, f"node {self.cfg.id} failed to write its log ({error}); it is stopping")
        for rep in self.replicas.values():
            for waiter in rep.all_waiters():
                self.reply(waiter, err)

    def request(self, conn: int, req: Request) -> None:
        timeout = req.timeout_ms or self.cfg.request_timeout_ms
        waiter = Waiter(conn, req.id, self.now + self.cfg.ticks(timeout), req.traceparent if self.tracing else "")
        if self.stopping or self.failed is not None:
            self.reply(waiter, Error(ErrorKind.UNAVAILABLE, f"node {self.cfg.id} is shutting down"))
            return
        op = req.op
        group = req.group or self.shards.group_of(getattr(op, "key", b""))
        rep = self.replicas.get(group)
        if rep is None:
            self.reply(waiter, Error(ErrorKind.NOT_FOUND, f"node {self.cfg.id} hosts no group {group}"))
            return
        err = self._dispatch(rep, op, req, waiter)
        if err is not None:
            self.reply(waiter, err)

    def _dispatch(self, rep: Replica, op, req: Request, waiter: Waiter) -> Reply | None:
        """Start serving ``op``; returns an immediate answer, or None if the answer comes later."""
        if isinstance(op, Range):
            return rep.kv.range(op) if req.serializable else rep.read(op, waiter)
        if isinstance(op, _WRITES):
            return rep.write(op, waiter)
        if isinstance(op, WatchCreate):
            for resp in self.watches.create(waiter.conn, req.id, rep.group, op, rep.kv):
                self.reply(waiter, resp)
            return None
        if isinstance(op, WatchCancel):
            done = self.watches.cancel(waiter.conn, op.watch_id, rep.kv.revision)
            if done is not None:
                self.reply(Waiter(waiter.conn, op.watch_id, 0), done)
            return OkResult()
        if isinstance(op, (LeaseKeepAlive, LeaseTimeToLive)):
            return self._lease_timing(rep, op)
        if isinstance(op, LeaseList):
            return LeaseListResult([info.id for info in rep.kv.leases()])
        if isinstance(op, MemberList):
            return MemberListResult(rep.member_statuses())
        if isinstance(op, (MemberAdd, MemberRemove, MemberPromote)):
            return self._membership(rep, op, waiter)
        if isinstance(op, Status):
            return self.status(rep)
        if isinstance(op, MoveLeader):
            if op.target == self.cfg.id and rep.is_leader:
                return OkResult()
            return rep.transfer(op.target, waiter)
        if isinstance(op, SnapshotSave):
            return rep.read(op, waiter)
        return Error(ErrorKind.BAD_REQUEST, f"unknown operation {type(op).__name__}")

    def _lease_timing(self, rep: Replica, op: LeaseKeepAlive | LeaseTimeToLive) -> Reply:
        if not rep.is_leader:
            return rep.not_leader()  # only the leader times leases
        info = rep.kv.lease(op.id)
        if info is None:
            if isinstance(op, LeaseTimeToLive):
                return LeaseTTLResult(op.id, -1)  # as etcd: a TTL of -1 says the lease is gone
            return Error(ErrorKind.NOT_FOUND, f"lease {op.id} not found (expired or revoked)")
        if isinstance(op, LeaseKeepAlive):
            rep.leases.start(op.id, info.ttl_s, self.now)
        remaining = rep.leases.remaining_s(op.id, self.now)
        keys = info.keys if isinstance(op, LeaseTimeToLive) and op.keys else []
        return LeaseTTLResult(op.id, info.ttl_s if remaining is None else remaining, info.ttl_s, keys)

    def _membership(self, rep: Replica, op: MemberAdd | MemberRemove | MemberPromote, waiter: Waiter) -> Reply | None:
        if not rep.is_leader:
            return rep.not_leader()
        config = {s.member.id for s in rep.member_statuses()}
        if isinstance(op, MemberAdd):
            if not op.member.peer:
                return Error(ErrorKind.BAD_REQUEST, "a new member needs a peer address (host:port)")
            member = op.member if op.member.id else replace(op.member, id=rep.next_member_id())
            if member.id in config:
                return Error(ErrorKind.BAD_REQUEST, f"node {member.id} is already a member")
            return rep.change_membership(add_change(member.id, op.learner, member), waiter, member.id)
        if op.id not in config:
            return Error(ErrorKind.NOT_FOUND, f"node {op.id} is not a member")
        if isinstance(op, MemberRemove):
            if len(rep.conf_state.voters) == 1 and op.id in rep.conf_state.voters:
                return Error(ErrorKind.BAD_REQUEST, "cannot remove the last voter")
            return rep.change_membership(remove_change(op.id), waiter, op.id)
        return rep.promotion_error(op.id) or rep.change_membership(add_change(op.id, False, None), waiter, op.id)

    # -- what the shell asks ----------------------------------------------------------------------------------------------
    def drain(self) -> Output:
        """End of a loop turn: propose what was queued, collect every group's writes and messages."""
        if self.failed is not None:
            out, self._out = self._out, Output()
            return out
        for rep in self.replicas.values():
            rep.flush()
        writing = [rep for rep in self.replicas.values() if rep.take_ready()]
        out, self._out = self._out, Output()
        if writing or self._sync_needed:
            self._token += 1
            self._inflight[self._token] = writing
            self._sync_needed = False
            out.persist = self._token
            out.batch = self.storage.take_batch()
        return out

    def status(self, rep: Replica | None = None) -> StatusResult:
        rep = rep or self.replicas[DATA_GROUP]
        raft = rep.rn.raft
        stats = rep.kv.stats()
        return StatusResult(
            id=self.cfg.id,
            member=rep.members.get(self.cfg.id, self.cfg.member),
            group=rep.group,
            leader=raft.lead,
            is_leader=raft.role == Role.LEADER,
            is_learner=self.cfg.id in rep.conf_state.learners,
            term=raft.term,
            commit_index=raft.log.committed,
            applied_index=raft.log.applied,
            revision=stats.revision,
            keys=stats.keys,
            db_bytes=stats.approx_bytes,
            version=__version__,
        )

    def peer_address(self, node_id: int) -> str | None:
        return self.peers.get(node_id)

    def leads_any(self) -> bool:
        return any(rep.is_leader for rep in self.replicas.values())

    def handover_pending(self) -> bool:
        """Whether this node still leads a group that has another voter to hand it to."""
        me = self.cfg.id
        return any(rep.is_leader and set(rep.conf_state.voters) - {me} for rep in self.replicas.values())

    def is_member(self) -> bool:
        """Whether any group still counts this node in (a removed node should stop)."""
        return any(self.cfg.id in {s.member.id for s in rep.member_statuses()} for rep in self.replicas.values())

    def pending_requests(self) -> int:
        return sum(
            len(rep.queued) + len(rep.waiting) + len(rep.conf_waiting) + len(rep.reads_by_ctx) + len(rep.read_queue)
            for rep in self.replicas.values()
        )

    def stop(self) -> None:
        """Begin a graceful stop: refuse new requests, and hand each group this node leads to its most
        up-to-date voter."""
        self.stopping = True
        for rep in self.replicas.values():
            if not rep.is_leader:
                continue
            progress = rep.rn.raft.tracker.progress
            voters = [v for v in rep.conf_state.voters if v != self.cfg.id and v in progress]
            if voters:
                rep.rn.transfer_leader(max(voters, key=lambda v: progress[v].match))

    # -- used by the replicas ---------------------------------------------------------------------------------------------
    def send(self, group: int, msgs: list[Message]) -> None:
        out = self._out.messages
        traces = self.replicas[group].traces if self.tracing else None
        for m in msgs:
            out.setdefault(m.to, []).append(GroupMessage(group, m, traces.attach(m) if traces else None))

    def reply(self, waiter: Waiter, reply: Reply) -> None:
        self._out.replies.append((waiter.conn, Response(waiter.req, reply)))

    def ok(self, waiter: Waiter) -> None:
        self.reply(waiter, OkResult())

    def need_sync(self) -> None:
        self._sync_needed = True

    def publish(self, group: int, events, revision: int) -> None:
        for conn, resp in self.watches.publish(group, events, revision):
            self._out.replies.append((conn, Response(resp.watch_id, resp)))

    def resync_watches(self, group: int) -> None:
        for conn, resp in self.watches.resync(group, self.replicas[group].kv):
            self._out.replies.append((conn, Response(resp.watch_id, resp)))

    def members_changed(self) -> None:
        for rep in self.replicas.values():
            for m in rep.members.values():
                if m.peer:
                    self.peers[m.id] = m.peer

    def leader_changed(self, group: int, leader: int) -> None:
        rep = self.replicas.get(group)
        term = rep.rn.raft.term if rep is not None else 0
        if leader and rep is not None:
            rep.stats.leader_changes += 1
        self.note(leader_event(group, term, leader))

    def note(self, event: NodeEvent) -> None:
        self._out.log.append(event)

    # -- tracing (only while ``tracing`` is on) ---------------------------------------------------------------------------
    def trace(self, point: TracePoint) -> None:
        self._out.traces.append(point)

    def take_traces(self) -> list[TracePoint]:
        """The trace points noted since the last call (or ``drain``), so the shell can time them promptly."""
        points, self._out.traces = self._out.traces, []
        return points

    def _trace_receive(self, rep: Replica, gm: GroupMessage) -> None:
        if gm.traces:
            rep.traces.received(gm)
        if rep.traces:
            progress = rep.rn.raft.tracker.progress
            pr = progress.get(gm.msg.frm)
            if pr is not None:
                rep.traces.acked(gm.msg, pr.match, [p.match for p in progress.values()])
