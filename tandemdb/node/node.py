"""``Node``: every Raft group this node hosts, behind one event-in, actions-out interface.

The shell's loop, once per turn: feed events (``tick``, ``receive``, ``request``, ``persisted``, ...), then
call ``drain`` and carry out the ``Output``: send each destination its messages in one frame, make ``batch``
durable if ``persist`` is set (calling ``persisted(persist, error)`` once it is), and write the replies to
their connections. Batches must be made durable in the order they were drained.

The node routes requests to groups (``group.py``) and collects what they emit; it asks them through their small
interface and never reaches into Raft. An exception from any entry point means the core is broken: the shell
must stop the process (fail-stop), never call the node again.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace

from .. import __version__
from ..kv import KVMachine
from ..raft.bootstrap import bootstrap
from ..raft.config import Rng
from ..raft.types import Entry, HardState, Message, MessageType
from ..storage.group_storage import GroupStorage
from ..storage.node_storage import NodeStorage
from ..storage.record import WriteBatch
from ..wire.client_api import (
    Error,
    ErrorKind,
    GroupCreate,
    GroupRemove,
    Member,
    MemberAdd,
    MemberList,
    MemberListResult,
    MemberPromote,
    MemberRemove,
    MoveLeader,
    OkResult,
    Request,
    Response,
    SnapshotSave,
    Status,
    StatusResult,
    WatchCancel,
    WatchCreate,
)
from ..wire.ops import OPS, OpKind
from ..wire.peer import GroupMessage
from . import commands as gc
from .bugs import check_bugs
from .config import DATA_GROUP, NodeConfig
from .events import NodeEvent
from .group import Group, invariant
from .machines import make_machine
from .membership import add_change, remove_change
from .shards import ShardMap
from .tracing import TracePoint
from .waiters import Waiter
from .watches import WatchHub

LIVENESS_GROUP = 0  # peer messages of group 0 are the node's own liveness heartbeats (``Node._liveness``)


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
        self._rng = rng
        self.now = 0  # ticks since start
        self._timeout_ticks = cfg.ticks(cfg.request_timeout_ms)  # a request's deadline when it names none
        self.shards = ShardMap()
        self.watches = WatchHub(cfg.max_watch_events)
        self.peers: dict[int, str] = dict(peers or {})
        self.stopping = False
        self.failed: BaseException | None = None  # set when the log could not be written
        self.snapshots_saved = 0  # by every group, when a write made them due (the shell times them apart)
        self._out = Output()
        self._token = 0
        self._inflight: dict[int, list[Group]] = {}  # persist token -> the groups whose Ready it makes durable
        self._sync_needed = False
        self._tracing = False
        self.groups: dict[int, Group] = {}
        # Work lists, so that quiet groups cost nothing: the groups that tick, and those touched this turn.
        self._awake: dict[int, Group] = {}
        self._dirty: dict[int, Group] = {}
        self._alarms: list[tuple[int, int]] = []  # heap of (tick, group): quiet groups that must wake then
        # Node liveness, for quiet groups: a follower that stops hearing from its leader's node wakes up.
        self._replicas_on: set[int] = set()  # the other nodes that replicate some group of this one
        self._heard: dict[int, int] = {}  # node -> the tick this node last heard from it
        self._silent: set[int] = set()  # nodes not heard from for an election timeout
        for group in sorted(set(storage.group_ids()) | set(self.shards.groups())):
            gs = storage.group(group)
            if _fresh(gs):
                if initial_members:
                    self._bootstrap(gs, initial_members)
            elif "forget_vote_on_restart" in cfg.bugs:
                hs = gs.hard_state
                gs.set_hard_state(HardState(hs.term, 0, hs.commit))
            self._add_group(gs)
        self._collect_members()

    def _bootstrap(self, gs: GroupStorage, members: list[Member]) -> None:
        """Every founding replica must write the same log: only ids and peer addresses go in; each member then
        announces its other addresses and labels through the log (``PublishMember``)."""
        contexts = {m.id: gc.encode(Member(m.id, m.peer)) for m in members}
        bootstrap(gs, contexts.keys(), contexts)
        self._sync_needed = True

    def create_group(self, group: int, members: list[Member]) -> None:
        """Host a new group, founded by ``members`` (the same list on each of them); a node not among them
        hosts an empty replica that waits to be added. Every state machine of this node is of one kind."""
        if group == LIVENESS_GROUP or group in self.groups:
            raise ValueError(f"group {group} exists already" if group else "group 0 is reserved")
        gs = self.storage.group(group)
        invariant(_fresh(gs), f"node {self.cfg.id}: storage of new group {group} is not empty")
        if any(m.id == self.cfg.id for m in members):
            self._bootstrap(gs, members)
        self._add_group(gs)
        self._collect_members()

    def remove_group(self, group: int) -> None:
        """Stop hosting ``group`` and delete its data (a tombstone in the log, durable with the next write).
        Its waiting requests and watches end with ``not_found``; its other replicas are not told."""
        g = self.groups.pop(group)
        self._awake.pop(group, None)
        self._dirty.pop(group, None)
        gone = Error(ErrorKind.NOT_FOUND, f"group {group} was removed from node {self.cfg.id}")
        for waiter in g.take_all_waiters():
            self.reply(waiter, gone)
        self._publish(self.watches.cancel_group(group, gone.message))
        self.storage.remove_group(group)
        self._sync_needed = True
        self._collect_members()

    def _add_group(self, gs: GroupStorage) -> None:
        """Drive the group whose storage is ``gs``, with a new state machine of this node's kind."""
        g = Group(self.cfg, gs.group, gs, self._rng, make_machine(self.cfg.state_machine, self.cfg))
        g.tracing = self._tracing
        self.groups[g.group] = self._awake[g.group] = self._dirty[g.group] = g

    def _touched(self, g: Group) -> None:
        """``g`` handled an event: drain it this turn, and tick it while it is awake."""
        self._dirty[g.group] = g
        if not g.quiesced:
            self._awake[g.group] = g
        elif self._awake.pop(g.group, None) is not None:
            alarm = g.alarm()
            if alarm is not None:
                heapq.heappush(self._alarms, (alarm, g.group))

    @property
    def tracing(self) -> bool:
        """Set by the shell: follow requests that carry a traceparent."""
        return self._tracing

    @tracing.setter
    def tracing(self, on: bool) -> None:
        self._tracing = on
        for g in self.groups.values():
            g.tracing = on

    # -- events --------------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        self.now += 1
        self._liveness()
        alarms = self._alarms
        while alarms and alarms[0][0] <= self.now:
            g = self.groups.get(heapq.heappop(alarms)[1])
            if g is not None and g.quiesced:
                g.wake()
                self._touched(g)
        for g in list(self._awake.values()):
            g.tick(self.now)
            self._touched(g)

    def receive(self, msgs: list[GroupMessage]) -> None:
        me = self.cfg.id
        heard = self._heard
        for gm in msgs:
            heard[gm.msg.frm] = self.now
            g = self.groups.get(gm.group)
            if g is not None and gm.msg.to == me:
                if self._tracing:
                    g.trace_receive(gm)
                g.step(gm)
                self._touched(g)

    def unreachable(self, peer: int) -> None:
        """The connection to ``peer`` broke: a group it led wakes up (it may have to elect another leader)."""
        self._wake_led_by(peer)
        for g in self._awake.values():
            g.unreachable(peer)

    def _wake_led_by(self, peer: int) -> None:
        for g in self.groups.values():
            if g.quiesced and g.leader == peer:
                g.wake()
                self._touched(g)

    def _liveness(self) -> None:
        """While some group is quiet, say "alive" to every node replicating a group of this one, one message
        per node (``LIVENESS_GROUP``), however many groups; wake the quiet groups led by a node not heard from
        for an election timeout."""
        now, every = self.now, max(1, self.cfg.election_ticks // 3)
        if now % every == 0 and len(self._awake) < len(self.groups):
            me = self.cfg.id
            for peer in sorted(self._replicas_on):
                hb = Message(type=MessageType.HEARTBEAT, to=peer, frm=me)
                self._out.messages.setdefault(peer, []).append(GroupMessage(LIVENESS_GROUP, hb))
        for peer in self._replicas_on:
            quiet_for = now - self._heard.setdefault(peer, now)
            if quiet_for <= self.cfg.election_ticks:
                self._silent.discard(peer)
            elif peer not in self._silent:
                self._silent.add(peer)
                self._wake_led_by(peer)

    def disconnect(self, conn: int) -> None:
        self.watches.drop_connection(conn)

    def persisted(self, token: int, error: BaseException | None) -> None:
        """The writes of ``Output.persist == token`` are durable (or failed with ``error``)."""
        invariant(bool(self._inflight) and token == min(self._inflight),
                  f"node {self.cfg.id}: write {token} reported durable out of order "
                  f"(in flight: {sorted(self._inflight)})")
        groups = self._inflight.pop(token)
        if error is not None:
            self._fail(error)
            return
        for g in groups:
            if self.groups.get(g.group) is not g:
                continue  # removed while its write was in flight
            saved = g.stats.snapshots_saved
            g.finish()
            self.snapshots_saved += g.stats.snapshots_saved - saved
            self._touched(g)

    def _fail(self, error: BaseException) -> None:
        """The log could not be written: answer every waiting request, then serve nothing more. The shell
        sees ``failed`` after the next ``drain`` and stops the process; a restart replays the log."""
        self.failed = error
        err = Error(ErrorKind.STORAGE, f"node {self.cfg.id} failed to write its log ({error}); it is stopping")
        for g in self.groups.values():
            for waiter in g.take_all_waiters():
                self.reply(waiter, err)

    def request(self, conn: int, req: Request) -> None:
        timeout = self.cfg.ticks(req.timeout_ms) if req.timeout_ms else self._timeout_ticks
        waiter = Waiter(conn, req.id, self.now + timeout, req.traceparent if self._tracing else "")
        if self.stopping or self.failed is not None:
            self.reply(waiter, Error(ErrorKind.UNAVAILABLE, f"node {self.cfg.id} is shutting down"))
            return
        op = req.op
        serve_node_op = _NODE_OPS.get(type(op))
        if serve_node_op is not None:
            self.reply(waiter, serve_node_op(self, op))
            return
        group = req.group or self.shards.group_of(getattr(op, "key", b""))
        g = self.groups.get(group)
        if g is None:
            self.reply(waiter, Error(ErrorKind.NOT_FOUND, f"node {self.cfg.id} hosts no group {group}"))
            return
        g.wake()
        answer = self._dispatch(g, op, req, waiter)
        self._touched(g)
        if answer is not None:
            self.reply(waiter, answer)

    def _dispatch(self, g: Group, op: Any, req: Request, waiter: Waiter) -> Any | None:
        """Start serving ``op``; returns an immediate answer, or None if the answer comes later. The node's own
        operations go to their handlers (``_GROUP_OPS``); a state machine's as the group's machine says."""
        kind = type(op)
        serve_own_op = _GROUP_OPS.get(kind)
        if serve_own_op is not None:
            return serve_own_op(self, g, op, waiter)
        ops = g.sm.ops
        if kind in ops.writes:
            return g.sm.validate(op) or g.write(op, waiter, req.client_id, req.seq)
        if kind in ops.reads:
            return g.serve_local(op) if req.serializable else g.read(op, waiter)
        if kind in ops.leader:
            return g.sm.leader_serve(op, self.now) if g.is_leader else g.not_leader()  # only the leader times
        return Error(ErrorKind.BAD_REQUEST, f"group {g.group} does not serve {kind.__name__} operations")

    # -- the node's own operations (ADMIN and STREAM in ``tandemdb.wire.ops``) --------------------------------------
    # ``_GROUP_OPS`` and ``_NODE_OPS`` (below the class) map each to its handler. A handler of ``_GROUP_OPS`` starts
    # serving its operation in group ``g`` and returns an immediate answer, or None if the answer comes later.

    def _group_create(self, op: GroupCreate) -> Any:
        unknown = [i for i in op.members if i not in self.peers and i != self.cfg.id]
        if not 0 < op.group < 1 << 63 or not op.members or unknown:
            why = f"no peer address known for nodes {unknown}" if unknown else "a group id >= 1 and members"
            return Error(ErrorKind.BAD_REQUEST, f"cannot create group {op.group}: {why}")
        if op.group in self.groups:
            return Error(ErrorKind.BAD_REQUEST, f"group {op.group} exists already on node {self.cfg.id}")
        me = self.cfg.member
        self.create_group(op.group, [me if i == me.id else Member(i, self.peers[i]) for i in sorted(set(op.members))])
        return OkResult()

    def _group_remove(self, op: GroupRemove) -> Any:
        if op.group not in self.groups:
            return Error(ErrorKind.NOT_FOUND, f"node {self.cfg.id} hosts no group {op.group}")
        self.remove_group(op.group)
        return OkResult()

    def _watch_create(self, g: Group, op: WatchCreate, waiter: Waiter) -> Any | None:
        if not isinstance(g.sm, KVMachine):
            return _no_keys(g)
        for resp in self.watches.create(waiter.conn, waiter.req, g.group, op, g.sm.store):
            self.reply(waiter, resp)
        return None

    def _watch_cancel(self, g: Group, op: WatchCancel, waiter: Waiter) -> Any:
        if not isinstance(g.sm, KVMachine):
            return _no_keys(g)
        done = self.watches.cancel(waiter.conn, op.watch_id, g.sm.store.revision)
        if done is not None:
            self.reply(Waiter(waiter.conn, op.watch_id, 0), done)
        return OkResult()

    def _member_list(self, g: Group, op: MemberList, waiter: Waiter) -> MemberListResult:
        return MemberListResult(g.membership.statuses())

    def _member_add(self, g: Group, op: MemberAdd, waiter: Waiter) -> Any | None:
        if not g.is_leader:
            return g.not_leader()
        if not op.member.peer:
            return Error(ErrorKind.BAD_REQUEST, "a new member needs a peer address (host:port)")
        member = op.member if op.member.id else replace(op.member, id=g.membership.next_member_id())
        if any(s.member.id == member.id for s in g.membership.statuses()):
            return Error(ErrorKind.BAD_REQUEST, f"node {member.id} is already a member")
        return g.change_membership(add_change(member.id, op.learner, member), waiter, member.id)

    def _member_remove(self, g: Group, op: MemberRemove, waiter: Waiter) -> Any | None:
        refused = _member_change_refused(g, op.id)
        if refused is not None:
            return refused
        if len(g.conf_state.voters) == 1 and op.id in g.conf_state.voters:
            return Error(ErrorKind.BAD_REQUEST, "cannot remove the last voter")
        return g.change_membership(remove_change(op.id), waiter, op.id)

    def _member_promote(self, g: Group, op: MemberPromote, waiter: Waiter) -> Any | None:
        refused = _member_change_refused(g, op.id) or g.promotion_error(op.id)
        if refused is not None:
            return refused
        return g.change_membership(add_change(op.id, False, None), waiter, op.id)

    def _status(self, g: Group, op: Status, waiter: Waiter) -> StatusResult:
        return self.status(g)

    def _move_leader(self, g: Group, op: MoveLeader, waiter: Waiter) -> Any | None:
        if op.target == self.cfg.id and g.is_leader:
            return OkResult()
        return g.transfer(op.target, waiter)

    def _snapshot_save(self, g: Group, op: SnapshotSave, waiter: Waiter) -> Any | None:
        return g.read(op, waiter)  # a linearizable read, that the driver answers with a backup (``Group.serve_local``)

    # -- what the shell asks -------------------------------------------------------------------------------------------
    def drain(self) -> Output:
        """End of a loop turn: propose what was queued, collect every group's writes, messages and replies."""
        if self.failed is not None:
            out, self._out = self._out, Output()
            return out
        writing = []
        dirty, self._dirty = self._dirty, {}
        for g in dirty.values():
            g.flush()
            if g.take_ready():
                writing.append(g)
        for g in dirty.values():
            self._collect(g)
        out, self._out = self._out, Output()
        if writing or self._sync_needed:
            self._token += 1
            self._inflight[self._token] = writing
            self._sync_needed = False
            out.persist = self._token
            out.batch = self.storage.take_batch()
        return out

    def _collect(self, g: Group) -> None:
        """Take what ``g`` emitted into this turn's output."""
        go = g.out.take()
        out = self._out
        if go.messages:
            attach = g.traces.attach if self._tracing and g.traces else None
            for m in go.messages:
                out.messages.setdefault(m.to, []).append(GroupMessage(g.group, m, attach(m) if attach else None))
        for m in go.quiesce:
            out.messages.setdefault(m.to, []).append(GroupMessage(g.group, m, quiesce=True))
        for waiter, reply in go.replies:
            out.replies.append((waiter.conn, Response(waiter.req, reply)))
        if "watch_skips_event" in self.cfg.bugs and any(e.kind == "leader" for e in go.log):
            self.watches.skip_next_revision(g.group)
        for events in go.changes:
            self._publish(self.watches.publish(g.group, events, events[-1].kv.mod_revision))
        if go.resync and isinstance(g.sm, KVMachine):
            self._publish(self.watches.resync(g.group, g.sm.store))
        if go.members_changed:
            self._collect_members()
        if g.sync_needed:
            g.sync_needed = False
            self._sync_needed = True
        out.log += go.log
        out.traces += go.traces
        if go.applied:
            out.applied.append((g.group, go.applied))

    def _publish(self, responses: list) -> None:
        for conn, resp in responses:
            self._out.replies.append((conn, Response(resp.watch_id, resp)))

    def _collect_members(self) -> None:
        replicas: set[int] = set()
        for g in self.groups.values():
            for m in g.membership.members.values():
                if m.peer:
                    self.peers[m.id] = m.peer
            cs = g.conf_state
            replicas.update(cs.voters, cs.learners, cs.voters_outgoing, cs.learners_next)
        self._replicas_on = replicas - {self.cfg.id}

    def status(self, g: Group | None = None) -> StatusResult:
        g = g or self.groups[DATA_GROUP]
        info = g.info()
        return StatusResult(
            id=self.cfg.id,
            member=g.membership.members.get(self.cfg.id, self.cfg.member),
            group=g.group,
            leader=info.leader,
            is_leader=info.is_leader,
            is_learner=self.cfg.id in g.conf_state.learners,
            term=info.term,
            commit_index=info.commit,
            applied_index=info.applied,
            revision=info.machine.revision,
            keys=info.machine.items,
            db_bytes=info.machine.bytes,
            version=__version__,
        )

    def replica_nodes(self) -> set[int]:
        """The other nodes that replicate some group of this one (kept up to date as members change)."""
        return set(self._replicas_on)

    def peer_address(self, node_id: int) -> str | None:
        return self.peers.get(node_id)

    def leads_any(self) -> bool:
        return any(g.is_leader for g in self.groups.values())

    def handover_pending(self) -> bool:
        """Whether this node still leads a group that has another voter to hand it to."""
        return any(g.handover_target() is not None for g in self.groups.values())

    def pending_requests(self) -> int:
        return sum(g.pending() for g in self.groups.values())

    def stop(self) -> None:
        """Begin a graceful stop: refuse new requests, and hand each group this node leads to its most
        up-to-date voter."""
        self.stopping = True
        for g in self.groups.values():
            g.wake()
            g.hand_over()
            self._touched(g)

    def reply(self, waiter: Waiter, reply: Any) -> None:
        self._out.replies.append((waiter.conn, Response(waiter.req, reply)))

    # -- tracing (only while ``tracing`` is on) ------------------------------------------------------------------------
    def take_traces(self) -> list[TracePoint]:
        """The trace points noted since the last call (or ``drain``), so the shell can time them promptly."""
        points, self._out.traces = self._out.traces, []
        for g in self.groups.values():
            if g.out.traces:
                points += g.out.traces
                g.out.traces.clear()
        return points


def _fresh(gs: GroupStorage) -> bool:
    return gs.last_index() == 0 and gs.snapshot().is_empty()


def _no_keys(g: Group) -> Error:
    return Error(ErrorKind.BAD_REQUEST, f"group {g.group} has no keys to watch")


def _member_change_refused(g: Group, member_id: int) -> Any | None:
    """Why a change of member ``member_id`` cannot start here, or None."""
    if not g.is_leader:
        return g.not_leader()
    if all(s.member.id != member_id for s in g.membership.statuses()):
        return Error(ErrorKind.NOT_FOUND, f"node {member_id} is not a member")
    return None


# The handlers of the node's own operations, by operation: those served in a group, and those served by the node
# outside any group. Together they cover the ADMIN and STREAM operations of the registry, and only those (checked
# below, when this module loads): a registered operation without a handler stops the import.
_GROUP_OPS: dict[type, Callable[[Node, Group, Any, Waiter], Any | None]] = {
    WatchCreate: Node._watch_create,
    WatchCancel: Node._watch_cancel,
    MemberList: Node._member_list,
    MemberAdd: Node._member_add,
    MemberRemove: Node._member_remove,
    MemberPromote: Node._member_promote,
    Status: Node._status,
    MoveLeader: Node._move_leader,
    SnapshotSave: Node._snapshot_save,
}
_NODE_OPS: dict[type, Callable[[Node, Any], Any]] = {GroupCreate: Node._group_create, GroupRemove: Node._group_remove}


def _check_own_ops() -> None:
    own, handled = set(OPS.types(OpKind.ADMIN, OpKind.STREAM)), _GROUP_OPS.keys() | _NODE_OPS.keys()
    if own != handled:
        names = sorted(t.__name__ for t in own ^ handled)
        raise TypeError(f"the node's handlers and the registry's ADMIN and STREAM operations differ on {names}")


_check_own_ops()
