"""The simulation loop: one priority queue of events in virtual time (microseconds), one seeded generator.

Event kinds: node ticks, message deliveries, disk write completions, client requests and replies, client
timeouts and retries, nemesis steps and heals. Each event that reaches a node is one turn of the real node's
loop: the event goes in, ``drain`` comes out and is carried out (``SimHost.drain``), and the node's invariants
are checked. At the end every fault is healed, the cluster must serve clients again, and the client history
must pass the workload's check (linearizability for ``kv``).
"""

from __future__ import annotations

import heapq
import random
import traceback
from dataclasses import dataclass, field
from typing import Any

from ..checker import watch as watch_checker
from ..checker.history import Op, Recorder
from ..node import NodeConfig
from ..raft.types import MessageType, Role
from ..storage.errors import StorageError
from ..storage.simdisk import SimDisk
from ..wire.client_api import Member, Request, Response
from ..wire.peer import GroupMessage
from . import views
from .clients import SimClient
from .faults import Nemesis
from .host import SimHost, member
from .invariants import Invariants, Violation
from .network import Network
from .watchers import MOVE_EVERY_US, WATCH_CONN, SimWatcher
from .workload import WORKLOADS

# The per-seed node knobs a run may pin (``SimConfig.knobs``, ``tandem sim --knob``): NodeConfig fields.
KNOBS = (
    "election_ticks",
    "heartbeat_ticks",
    "snapshot_every",
    "keep_entries",
    "snapshot_chunk_size",
    "max_size_per_msg",
    "max_inflight_msgs",
    "check_quorum",
    "pre_vote",
    "lease_reads",
    "max_clock_drift_ticks",
    "request_timeout_ms",
    "session_ttl_s",
)
ADMIN_CONN = 1_000_000  # the connection the nemesis sends its operator requests on
MAX_NODE_ID = 63  # every node knows the peer address of every id up to this one


@dataclass
class SimConfig:
    seed: int
    nodes: int = 3
    faults: frozenset[str] = frozenset()
    duration_us: int = 10_000_000
    bugs: frozenset[str] = frozenset()
    clients: int = 4
    state_machine: str = "kv"
    # Pinned per-seed node knobs (NodeConfig fields), e.g. for a targeted run.
    knobs: dict[str, Any] = field(default_factory=dict)
    trace: bool = False


@dataclass
class SimResult:
    seed: int
    ok: bool
    error: str = ""
    sim_time_us: int = 0
    events: int = 0
    ops: int = 0
    ops_ok: int = 0
    committed: int = 0
    trace: list[str] = field(default_factory=list)


class Simulation:
    tick_us = 20_000
    quiet_us = 4_000_000  # after healing: the cluster must serve clients again within this
    nemesis_every_us = (200_000, 1_500_000)
    linearizability_steps = 1_000_000
    max_node_id = MAX_NODE_ID

    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.now = 0
        self._queue: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self._seq = 0
        self.events = 0
        self.trace: list[str] | None = [] if cfg.trace else None
        self.network = Network(self.rng)
        self.hosts: dict[int, SimHost] = {}
        self.invariants = Invariants(self.hosts)
        self.history = Recorder(lambda: self.now)
        self.workload = WORKLOADS[cfg.state_machine]()
        # Per-seed knobs ("swizzling"): each seed explores a different corner of timing and batching.
        rng = self.rng
        self.disk_us = rng.choice(((100, 1_500), (500, 8_000)))
        self.client_timeout_us = rng.choice((300_000, 1_000_000))
        # A write unanswered this long is sent again, same session, to another node (its reply may be lost).
        self.resend_us = rng.choice(((50_000, 150_000), (150_000, 400_000)))
        election = rng.choice((3, 5, 10))  # short timeouts make split votes and leader churn common
        check_quorum = rng.random() < 0.5
        self.default_params: dict[str, Any] = {
            "tick_ms": self.tick_us // 1000,
            "election_ticks": election,
            "heartbeat_ticks": 1 if election < 10 else 2,
            "snapshot_every": rng.randint(50, 400),
            "keep_entries": 20,
            "snapshot_chunk_size": 64,
            "max_size_per_msg": rng.choice((1, 256, 4096)),
            "max_inflight_msgs": rng.choice((1, 4, 16, 64)),
            "check_quorum": check_quorum,
            "pre_vote": rng.random() < 0.7,
            "lease_reads": check_quorum and rng.random() < 0.5,  # lease reads need CheckQuorum
            # Skew faults run clocks up to 2x apart: the lease must end within half an election timeout.
            "max_clock_drift_ticks": election // 2 + 1,
            "request_timeout_ms": rng.choice((200, 600, 2_000)),
            "session_ttl_s": rng.choice((4, 600)),  # short: session sweeps happen during the run
            "record_applied": True,
            "state_machine": cfg.state_machine,
            "bugs": cfg.bugs,
        }
        unknown = sorted(set(cfg.knobs) - set(KNOBS))
        if unknown:
            raise ValueError(f"unknown knobs {unknown}; known: {', '.join(KNOBS)}")
        if cfg.knobs.get("lease_reads") and cfg.knobs.get("check_quorum") is False:
            raise ValueError("lease reads need check_quorum")
        self.default_params.update(cfg.knobs)
        if "lease_reads" in cfg.knobs:
            self.default_params["check_quorum"] = self.default_params["check_quorum"] or cfg.knobs["lease_reads"]
        elif not self.default_params["check_quorum"]:
            self.default_params["lease_reads"] = False
        self.params = dict(self.default_params)  # for nodes started from now on; the snapshot fault changes it
        ids = list(range(1, cfg.nodes + 1))
        self.removed: set[int] = set()
        self.failed: set[int] = set()  # nodes whose disk was found corrupt: they never start again
        founders = [member(i) for i in ids]
        for i in ids:
            self._start(self._new_host(i), founders)
        self.clients = [SimClient(self, c) for c in range(1, cfg.clients + 1)]
        for c in self.clients:
            self.schedule(self.rng.randint(0, 200_000), "next_op", c.id)
        # Watchers of the workload's key range, if its state machine has watches: two or three per seed.
        self.watchers: list[SimWatcher] = []
        if self.workload.watch_range is not None:
            key, range_end = self.workload.watch_range
            self.watchers = [SimWatcher(self, i, key, range_end) for i in range(self.rng.randint(2, 3))]
            for w in self.watchers:
                self.schedule(self.rng.randint(0, 200_000), "watch_open", w.index)
                self.schedule(self.rng.randint(*MOVE_EVERY_US), "watch_move", w.index)
        self._reply_at: dict[tuple[int, int], int] = {}  # (node, conn) -> when its last reply arrives
        self._broken: set[tuple[int, int, int]] = set()  # (node, conn, watch id) of watches whose connection broke
        self.admin_req = 0
        self.crash_trap = False  # while set: crash each node right after it grants a vote or while it leads
        self.traps: set[int] = set()  # nodes with a trap about to spring
        self.isolate_new_leaders = False  # while set: partition each new leader away from the others
        self.isolated: tuple[int, int] | None = None  # (node, term) of the leader isolated last
        self.nemesis = Nemesis(self, cfg.faults)
        if cfg.faults:
            self.schedule(self.rng.randint(*self.nemesis_every_us), "nemesis")
        self.healed_at: int | None = None
        self.ok_after_heal = 0
        self.stopping = False

    # -- scheduling --------------------------------------------------------------------------------------------
    def schedule(self, delay_us: int, kind: str, *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (self.now + delay_us, self._seq, kind, args))

    def trace_line(self, text: str) -> None:
        if self.trace is not None:
            self.trace.append(f"{self.now:>11} {text}")

    def violation(self, text: str) -> None:
        raise Violation(text)

    # -- the cluster (used by hosts, clients and the nemesis) ----------------------------------------------------
    def node_config(self, node_id: int) -> NodeConfig:
        return NodeConfig(member=member(node_id), **self.params)

    def set_snapshot_knobs(self, every: int, keep: int) -> None:
        """How often nodes snapshot and how much log they keep: on the running nodes and those started later."""
        self.params["snapshot_every"], self.params["keep_entries"] = every, keep
        for host in self.hosts.values():
            if host.node is not None:
                host.node.cfg.snapshot_every, host.node.cfg.keep_entries = every, keep

    def node_ids(self) -> list[int]:
        return [i for i in sorted(self.hosts) if i not in self.removed]

    def live_ids(self) -> list[int]:
        return [i for i in self.node_ids() if self.hosts[i].alive]

    def down_ids(self) -> list[int]:
        """Crashed nodes that may be restarted."""
        return [i for i in self.node_ids() if not self.hosts[i].alive and i not in self.failed]

    def leader(self) -> SimHost | None:
        best = None
        for i in self.live_ids():
            h = self.hosts[i]
            if h.is_leader and (best is None or views.raft_of(h.running).term > views.raft_of(best.running).term):
                best = h
        return best

    def _new_host(self, node_id: int) -> SimHost:
        """A machine with an empty disk, not yet started."""
        host = SimHost(self, node_id, SimDisk(random.Random(self.rng.getrandbits(64))))
        self.hosts[node_id] = host
        return host

    def _start(self, host: SimHost, founders: list[Member] | None = None) -> None:
        host.start(founders)
        self.schedule(self.rng.randint(0, host.tick_us), "tick", host.id, host.incarnation)

    def add_node(self) -> int:
        node_id = max(self.hosts) + 1
        assert node_id <= self.max_node_id
        self._start(self._new_host(node_id))
        self.trace_line(f"add node {node_id}")
        return node_id

    def remove_node(self, node_id: int) -> None:
        self.crash(node_id)
        self.removed.add(node_id)
        self.trace_line(f"remove node {node_id}")

    def crash(self, node_id: int) -> None:
        host = self.hosts[node_id]
        if not host.alive:
            return
        host.crash(self.rng, torn=self.rng.random() < 0.5)
        self.trace_line(f"crash {node_id}")
        for c in self.clients:  # their connections to it close
            if c.op is not None and c.op.node == node_id:
                self.schedule(self.rng.randint(100, 1_000), "refused", c.id, max(c.op.reqs))
        for w in self.watchers:
            if w.req and w.target == node_id:
                self.schedule(self.rng.randint(100, 1_000), "refused", w.conn, w.req)
        self.check_durability()
        for i in self.live_ids():  # and so do the peers' connections to it, as the server shell reports
            self.schedule(self.rng.randint(100, 1_000), "unreachable", i, node_id)

    def check_durability(self) -> None:
        self.invariants.check_durable_quorum([h.durable for h in self.hosts.values()], self.cfg.nodes // 2 + 1)

    def restart(self, node_id: int) -> None:
        host = self.hosts[node_id]
        if host.alive or node_id in self.removed or node_id in self.failed:
            return
        try:
            self._start(host)
        except StorageError as e:
            # A corrupt disk must stop the node (never serve wrong data); an operator rebuilds it as a new member.
            self.failed.add(node_id)
            self.trace_line(f"node {node_id} refuses to start: {type(e).__name__}")
            self.nemesis.replace(node_id)
            return
        self.trace_line(f"restart {node_id}")
        self.after_event(host)

    def after_event(self, host: SimHost) -> None:
        """The end of one turn of a node's loop: carry out its output, then check the invariants. A new leader
        is seen before its first messages leave, so that the nemesis can isolate it before it replicates."""
        self._observe(host)
        host.drain()
        self.invariants.on_node_step(host)

    def _observe(self, host: SimHost) -> None:
        r = views.raft_of(host.running)
        seen = (r.term, r.role, r.lead, r.log.committed)
        if seen == host.seen:
            return
        host.seen = seen
        if r.role == Role.LEADER:
            if self.crash_trap:
                self.spring_trap(host.id, self.rng.randint(0, 30_000))
            if self.isolate_new_leaders and self.isolated != (host.id, r.term):
                self.isolated = (host.id, r.term)
                self.network.cut([[host.id], [i for i in self.node_ids() if i != host.id]])
                self.trace_line(f"isolate new leader {host.id}")
        self.trace_line(f"node {host.id} term={r.term} role={Role(r.role).name} lead={r.lead} commit={r.log.committed}")

    def send(self, src: SimHost, dest: int, msgs: list[GroupMessage]) -> None:
        """One frame of messages from ``src`` to ``dest`` goes on the network."""
        voted = False
        for gm in msgs:
            self.invariants.on_send(src.id, gm.msg)
            voted = voted or (gm.msg.type == MessageType.VOTE_RESP and not gm.msg.reject)
        for delay in self.network.deliveries(src.id, dest):
            self.schedule(delay, "deliver", dest, msgs)
        if voted and self.crash_trap:
            self.spring_trap(src.id, 0)

    def spring_trap(self, node_id: int, delay_us: int) -> None:
        """Crash ``node_id`` soon. The trap stays armed until the crash fault heals, while a majority is up."""
        if node_id in self.traps or len(self.live_ids()) <= len(self.node_ids()) // 2 + 1:
            return
        self.traps.add(node_id)
        self.schedule(delay_us, "trap", node_id)

    def schedule_disk(self, host: SimHost) -> None:
        self.schedule(self.rng.randint(*self.disk_us), "disk", host.id, host.incarnation)

    # -- requests and replies ----------------------------------------------------------------------------------
    def client_send(self, client: SimClient, node_id: int, req: Request) -> None:
        self.schedule(self.rng.randint(100, 1_000), "request", node_id, client.id, req)

    def admin(self, node_id: int, op: Any) -> None:
        """An operator's request (membership, leadership) to ``node_id``."""
        self.admin_req += 1
        self.schedule(self.rng.randint(100, 1_000), "request", node_id, ADMIN_CONN, Request(self.admin_req, op))

    def reply(self, node_id: int, conn: int, resp: Response) -> None:
        """A reply travels back to its client; while messages are being lost (the loss fault), so are replies:
        the client then resends its write elsewhere, with the same session, as a real client does."""
        if (node_id, conn, resp.id) in self._broken:
            return  # the rest of a watch whose connection broke
        loss = self.network.model.loss
        if conn != ADMIN_CONN and loss and self.rng.random() < loss:
            self.trace_line(f"reply #{resp.id} from node {node_id} to c{conn} lost")
            if conn >= WATCH_CONN:
                # A stream's response is lost only with its connection: the watch ends there, and the node
                # hears that the connection closed.
                self._broken.add((node_id, conn, resp.id))
                self.schedule(self.rng.randint(100, 1_000), "conn_lost", node_id, conn, resp.id)
            return
        # One connection delivers in order (TCP): a watch's responses must not overtake one another.
        at = max(self.now + self.rng.randint(100, 1_000), self._reply_at.get((node_id, conn), 0))
        self._reply_at[(node_id, conn)] = at
        self.schedule(at - self.now, "reply", conn, resp)

    def completed(self, client: SimClient, op: Op, output: Any) -> None:
        self.history.ok(op, output)
        self.trace_line(f"ok c{client.id} op{op.id} -> {output}")
        if self.healed_at is not None:
            self.ok_after_heal += 1
        self.schedule(self.rng.randint(0, 20_000), "next_op", client.id)

    # -- the loop ---------------------------------------------------------------------------------------------------
    def run(self) -> SimResult:
        cfg = self.cfg
        end = cfg.duration_us
        result = SimResult(seed=cfg.seed, ok=True)
        try:
            self._run_until(end)
            self.nemesis.heal_all()
            for i in self.node_ids():
                self.restart(i)
            self.healed_at = self.now
            self.trace_line("healed")
            self._run_until(end + self.quiet_us)
            self.stopping = True
            self._run_until(end + self.quiet_us + self.client_timeout_us + 100_000)
            if self.ok_after_heal == 0:
                raise Violation(
                    f"no client operation succeeded in the {self.quiet_us / 1e6:.0f} s after all faults healed"
                )
            failure = self.workload.check(self.history.ops, self.linearizability_steps)
            if failure:
                raise Violation(failure)
            if self.watchers:
                watched = watch_checker.check([log for w in self.watchers for log in w.logs])
                if not watched.valid:
                    raise Violation(watched.describe())
        except Violation as v:
            result.ok, result.error = False, f"{v} (at {self.now / 1e6:.3f} s simulated)"
        except Exception:  # noqa: BLE001  # a crash of the node logic itself is a failure too: report it, with its seed
            result.ok, result.error = False, f"exception at {self.now / 1e6:.3f} s: {traceback.format_exc(limit=8)}"
        result.sim_time_us = self.now
        result.events = self.events
        ops = self.history.ops
        result.ops = len(ops)
        result.ops_ok = sum(1 for o in ops if o.status == "ok")
        result.committed = max(
            (
                views.raft_of(h.node).log.committed if h.node is not None else h.durable.hard_state.commit
                for h in self.hosts.values()
            ),
            default=0,
        )
        if self.trace is not None:
            self.trace_line(f"result ok={result.ok} {result.error}")
            result.trace = self.trace
        return result

    def _run_until(self, t_end: int) -> None:
        q = self._queue
        while q and q[0][0] <= t_end:
            t, _, kind, args = heapq.heappop(q)
            self.now = t
            self.events += 1
            getattr(self, "_on_" + kind)(*args)
        self.now = t_end

    # -- event handlers ------------------------------------------------------------------------------------------------
    def _live(self, node_id: int, incarnation: int | None = None) -> SimHost | None:
        host = self.hosts.get(node_id)
        if host is None or host.node is None or node_id in self.removed:
            return None
        if incarnation is not None and host.incarnation != incarnation:
            return None
        return host

    def _on_tick(self, node_id: int, incarnation: int) -> None:
        host = self._live(node_id, incarnation)
        if host is None:
            return
        host.running.tick()
        self.after_event(host)
        self.schedule(host.tick_us, "tick", node_id, incarnation)

    def _on_deliver(self, node_id: int, msgs: list[GroupMessage]) -> None:
        host = self._live(node_id)
        if host is None:
            return
        if self.trace is not None:
            self.trace_line(f"deliver {msgs[0].msg.frm}->{node_id} " + "; ".join(_describe(gm) for gm in msgs))
        host.running.receive(msgs)
        self.after_event(host)

    def _on_disk(self, node_id: int, incarnation: int) -> None:
        host = self._live(node_id, incarnation)
        if host is not None and host.writes:
            host.finish_write()
            self.after_event(host)

    def _on_unreachable(self, node_id: int, peer: int) -> None:
        host = self._live(node_id)
        if host is not None:
            host.running.unreachable(peer)
            self.after_event(host)

    def _on_trap(self, node_id: int) -> None:
        self.traps.discard(node_id)
        self.trace_line(f"crash trap sprung on {node_id}")
        self.crash(node_id)
        # Sometimes the process is back at once, before the messages already on their way to it arrive.
        self.schedule(self.rng.choice((0, self.rng.randint(1_000, 30_000))), "restart", node_id)

    def _on_restart(self, node_id: int) -> None:
        self.restart(node_id)

    def _on_request(self, node_id: int, conn: int, req: Request) -> None:
        host = self._live(node_id)
        if host is None:
            self.schedule(self.rng.randint(100, 1_000), "refused", conn, req.id)
            return
        who = "admin" if conn == ADMIN_CONN else f"c{conn}"
        self.trace_line(f"request {who} #{req.id} -> node {node_id}: {req.op!r}")
        host.running.request(conn, req)
        self.after_event(host)

    def _on_reply(self, conn: int, resp: Response) -> None:
        if conn == ADMIN_CONN:
            self.trace_line(f"admin #{resp.id} <- {type(resp.reply).__name__}")
            if self.healed_at is None:
                self.nemesis.drive_membership()
            return
        if conn >= WATCH_CONN:
            self.watchers[conn - WATCH_CONN].on_reply(resp.id, resp.reply)
            return
        self.clients[conn - 1].on_reply(resp.id, resp.reply)

    def _on_refused(self, conn: int, req_id: int) -> None:
        if conn == ADMIN_CONN:
            return
        if conn >= WATCH_CONN:
            self.watchers[conn - WATCH_CONN].on_closed(req_id)
        else:
            self.clients[conn - 1].on_refused(req_id)

    def _on_conn_lost(self, node_id: int, conn: int, req_id: int) -> None:
        host = self._live(node_id)
        if host is not None:
            host.running.disconnect(conn)
            self.after_event(host)
        self.watchers[conn - WATCH_CONN].on_closed(req_id)

    def _on_watch_open(self, index: int) -> None:
        w = self.watchers[index]
        if not w.req:
            w.open()

    def _on_watch_move(self, index: int) -> None:
        if self.stopping:
            return
        self.watchers[index].move()
        self.schedule(self.rng.randint(*MOVE_EVERY_US), "watch_move", index)

    def _on_next_op(self, client_id: int) -> None:
        if self.stopping:
            return
        client = self.clients[client_id - 1]
        client.next_op()
        if client.op is None:
            raise RuntimeError(f"client {client_id} started no operation")
        self.schedule(self.client_timeout_us, "timeout", client_id, client.op.op.id)

    def _on_retry(self, client_id: int, op_id: int) -> None:
        client = self.clients[client_id - 1]
        if client.op is not None and client.op.op.id == op_id and self.now < client.op.deadline:
            client.send()

    def _on_resend(self, client_id: int, op_id: int, req_id: int) -> None:
        client = self.clients[client_id - 1]
        op = client.op
        if op is not None and op.op.id == op_id and max(op.reqs) == req_id and self.now < op.deadline:
            client.resend()

    def _on_timeout(self, client_id: int, op_id: int) -> None:
        client = self.clients[client_id - 1]
        if client.op is None or client.op.op.id != op_id:
            return
        self.trace_line(f"timeout c{client_id} op{op_id}")
        client.on_timeout()
        self.schedule(self.rng.randint(0, 20_000), "next_op", client_id)

    def _on_nemesis(self) -> None:
        if self.healed_at is not None:
            return
        self.nemesis.step()
        self.schedule(self.rng.randint(*self.nemesis_every_us), "nemesis")

    def _on_heal(self, fault: str) -> None:
        if self.healed_at is None:
            self.nemesis.end(fault)


def _describe(gm: GroupMessage) -> str:
    m = gm.msg
    return (
        f"{MessageType(m.type).name} term={m.term} index={m.index} logterm={m.log_term} commit={m.commit} "
        f"n={len(m.entries)}{' reject' if m.reject else ''}"
    )


def run_seed(cfg: SimConfig) -> SimResult:
    return Simulation(cfg).run()
