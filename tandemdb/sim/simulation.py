"""The simulation loop: one priority queue of events in virtual time (microseconds), one seeded generator.

Event kinds: node ticks, message deliveries, disk write completions, client requests and replies, client
timeouts, nemesis steps and heals. After every event the touched node's invariants are checked; at the end
every fault is healed, the cluster must make progress again, and the client history must be linearizable.
"""

from __future__ import annotations

import heapq
import random
import traceback
from dataclasses import dataclass, field, replace

from ..checker.history import Recorder
from ..checker.linearizability import check, describe
from ..raft.errors import NotLeaderError
from ..raft.bootstrap import bootstrap
from ..raft.types import Message, MessageType, Role
from ..storage.errors import StorageError
from ..storage.simdisk import SimDisk
from .clients import Pending, SimClient
from .faults import Nemesis
from .invariants import Invariants, Violation
from .network import Network
from .node import NodeParams, SimNode


@dataclass
class SimConfig:
    seed: int
    nodes: int = 3
    faults: frozenset[str] = frozenset()
    duration_us: int = 10_000_000
    bugs: frozenset[str] = frozenset()
    clients: int = 4
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
    client_timeout_us = 1_000_000
    nemesis_every_us = (200_000, 1_500_000)
    linearizability_steps = 1_000_000

    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.now = 0
        self._queue: list[tuple[int, int, str, tuple]] = []
        self._seq = 0
        self.events = 0
        self.trace: list[str] | None = [] if cfg.trace else None
        self.network = Network(self.rng)
        self.nodes: dict[int, SimNode] = {}
        self.invariants = Invariants(self.nodes)
        self.history = Recorder(lambda: self.now)
        # Per-seed knobs ("swizzling"): each seed explores a different corner of timing and batching.
        rng = self.rng
        self.disk_us = rng.choice(((100, 1_500), (500, 8_000)))
        self.client_timeout_us = rng.choice((300_000, 1_000_000))
        self.crash_trap = False  # while set: crash each node right after it grants a vote or wins an election
        self.isolate_new_leaders = False  # while set: partition each new leader away from the others
        self.isolated: tuple[int, int] | None = None  # (node, term) of the leader isolated last
        election_tick = rng.choice((3, 5, 10))  # short timeouts make split votes and leader churn common
        self.default_params = NodeParams(
            bugs=cfg.bugs,
            election_tick=election_tick,
            heartbeat_tick=1 if election_tick < 10 else 2,
            snapshot_every=rng.randint(50, 400),
            max_size_per_msg=rng.choice((1, 256, 4096)),
            max_inflight_msgs=rng.choice((1, 4, 16, 64)),
            check_quorum=rng.random() < 0.5,
            pre_vote=rng.random() < 0.7,
        )
        # Lease reads need CheckQuorum.
        self.default_params.lease_reads = self.default_params.check_quorum and rng.random() < 0.5
        self.params = replace(self.default_params)  # shared by all nodes; the snapshot fault changes it
        ids = tuple(range(1, cfg.nodes + 1))
        self.removed: set[int] = set()
        self.failed: set[int] = set()  # nodes whose disk was found corrupt: they never start again
        for i in ids:
            node = self._new_node(i)
            bootstrap(node.durable, ids)
            node.storage.sync()
            self._start(node)
        self.clients = [SimClient(self, c) for c in range(1, cfg.clients + 1)]
        for c in self.clients:
            self.schedule(self.rng.randint(0, 200_000), "next_op", c.id)
        self.nemesis = Nemesis(self, cfg.faults)
        if cfg.faults:
            self.schedule(self.rng.randint(*self.nemesis_every_us), "nemesis")
        self.healed_at: int | None = None
        self.ok_after_heal = 0
        self.values: dict[str, list[int | None]] = {}

    # -- scheduling --------------------------------------------------------------------------------------------
    def schedule(self, delay_us: int, kind: str, *args) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (self.now + delay_us, self._seq, kind, args))

    def trace_line(self, text: str) -> None:
        if self.trace is not None:
            self.trace.append(f"{self.now:>11} {text}")

    # -- cluster views and operations (used by nodes, clients and the nemesis) ------------------------------------
    def node_ids(self) -> list[int]:
        return [i for i in sorted(self.nodes) if i not in self.removed]

    def live_ids(self) -> list[int]:
        return [i for i in self.node_ids() if self.nodes[i].alive]

    def down_ids(self) -> list[int]:
        """Crashed nodes that may be restarted."""
        return [i for i in self.node_ids() if not self.nodes[i].alive and i not in self.failed]

    def leader(self) -> SimNode | None:
        best = None
        for i in self.live_ids():
            n = self.nodes[i]
            if n.is_leader and (best is None or n.rn.raft.term > best.rn.raft.term):
                best = n
        return best

    def _new_node(self, node_id: int) -> SimNode:
        """A node with an empty disk, not yet started."""
        node = SimNode(self, node_id, SimDisk(random.Random(self.rng.getrandbits(64))), self.params)
        self.nodes[node_id] = node
        return node

    def _start(self, node: SimNode) -> None:
        node.start()
        self.schedule(self.rng.randint(0, node.tick_us), "tick", node.id, node.incarnation)

    def add_node(self) -> int:
        node_id = max(self.nodes) + 1
        self._start(self._new_node(node_id))
        self.trace_line(f"add node {node_id}")
        return node_id

    def remove_node(self, node_id: int) -> None:
        self.crash(node_id)
        self.removed.add(node_id)
        self.trace_line(f"remove node {node_id}")

    def crash(self, node_id: int) -> None:
        node = self.nodes[node_id]
        if node.alive:
            node.crash(self.rng, torn=self.rng.random() < 0.5)
            self.trace_line(f"crash {node_id}")
            self.check_durability()

    def check_durability(self) -> None:
        self.invariants.check_durable_quorum((n.durable for n in self.nodes.values()), self.cfg.nodes // 2 + 1)

    def restart(self, node_id: int) -> None:
        node = self.nodes[node_id]
        if node.alive or node_id in self.removed or node_id in self.failed:
            return
        try:
            self._start(node)
        except StorageError as e:
            # A corrupt disk must stop the node (never serve wrong data); an operator rebuilds it as a new member.
            self.failed.add(node_id)
            self.trace_line(f"node {node_id} refuses to start: {type(e).__name__}")
            self.nemesis.replace(node_id)
            return
        self.trace_line(f"restart {node_id}")
        self.invariants.on_node_step(node)

    def send_all(self, src: SimNode, msgs: list[Message]) -> None:
        for m in msgs:
            for delay in self.network.deliveries(src.id, m.to):
                self.schedule(delay, "deliver", m)
            if self.crash_trap and m.type == MessageType.VOTE_RESP and not m.reject:
                self.spring_trap(src.id, 0)

    def spring_trap(self, node_id: int, delay_us: int) -> None:
        """Crash ``node_id`` soon. The trap stays armed until the crash fault heals, while a majority is up."""
        if len(self.live_ids()) <= len(self.node_ids()) // 2 + 1:
            return
        self.schedule(delay_us, "trap", node_id)

    def schedule_disk(self, node: SimNode) -> None:
        self.schedule(self.rng.randint(*self.disk_us), "disk", node.id, node.incarnation)

    def observe_soft_state(self, node: SimNode) -> None:
        r = node.rn.raft
        if self.crash_trap and r.role == Role.LEADER:
            self.spring_trap(node.id, self.rng.randint(0, 30_000))
        if self.isolate_new_leaders and r.role == Role.LEADER and self.isolated != (node.id, r.term):
            self.isolated = (node.id, r.term)
            self.network.cut([[node.id], [i for i in self.node_ids() if i != node.id]])
            self.trace_line(f"isolate new leader {node.id}")
        if self.trace is not None:
            self.trace_line(f"node {node.id} term={r.term} role={Role(r.role).name} lead={r.lead} commit={r.log.committed}")

    def violation(self, text: str) -> None:
        raise Violation(text)

    # -- clients --------------------------------------------------------------------------------------------------
    def recent_values(self, key: str) -> list[int | None]:
        return self.values.get(key) or [None]

    def client_send(self, client: SimClient, op: Pending) -> None:
        self.schedule(self.rng.randint(100, 1_000), "request", client.target, client.id, op.op_id)

    def reply(self, client_id: int, op_id: int, output) -> None:
        self.schedule(self.rng.randint(100, 1_000), "reply", client_id, op_id, output)

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
                raise Violation(f"no client operation succeeded in the {self.quiet_us / 1e6:.0f} s after all faults healed")
            self._check_history()
        except Violation as v:
            result.ok, result.error = False, f"{v} (at {self.now / 1e6:.3f} s simulated)"
        except Exception:  # a crash of the node logic itself is a failure too: report it, with its seed
            result.ok, result.error = False, f"exception at {self.now / 1e6:.3f} s: {traceback.format_exc(limit=8)}"
        result.sim_time_us = self.now
        result.events = self.events
        ops = self.history.ops
        result.ops = len(ops)
        result.ops_ok = sum(1 for o in ops if o.status == "ok")
        result.committed = max((n.rn.raft.log.committed for n in self.nodes.values()), default=0)
        if self.trace is not None:
            self.trace_line(f"result ok={result.ok} {result.error}")
            result.trace = self.trace
        return result

    stopping = False

    def _check_history(self) -> None:
        ops = [o for o in self.history.ops if not (o.f == "read" and o.status != "ok")]
        res = check(ops, max_steps=self.linearizability_steps)
        if res.valid is False:
            raise Violation("history is not linearizable: " + describe(res, ops))

    def _run_until(self, t_end: int) -> None:
        q = self._queue
        while q and q[0][0] <= t_end:
            t, _, kind, args = heapq.heappop(q)
            self.now = t
            self.events += 1
            getattr(self, "_on_" + kind)(*args)
        self.now = t_end

    # -- event handlers ------------------------------------------------------------------------------------------------
    def _on_tick(self, node_id: int, incarnation: int) -> None:
        node = self.nodes[node_id]
        if not node.alive or node.incarnation != incarnation:
            return
        node.tick()
        node.pump()
        self.invariants.on_node_step(node)
        self.schedule(node.tick_us, "tick", node_id, incarnation)

    def _on_deliver(self, m: Message) -> None:
        node = self.nodes.get(m.to)
        if node is None or not node.alive:
            return
        if self.trace is not None:
            self.trace_line(
                f"deliver {m.frm}->{m.to} {MessageType(m.type).name} term={m.term} index={m.index} "
                f"logterm={m.log_term} commit={m.commit} n={len(m.entries)}{' reject' if m.reject else ''}"
            )
        node.rn.step(m)
        node.pump()
        self.invariants.on_node_step(node)

    def _on_trap(self, node_id: int) -> None:
        self.trace_line(f"crash trap sprung on {node_id}")
        self.crash(node_id)
        # Sometimes the process is back at once, before the messages already on their way to it arrive.
        self.schedule(self.rng.choice((0, self.rng.randint(1_000, 30_000))), "restart", node_id)

    def _on_restart(self, node_id: int) -> None:
        self.restart(node_id)

    def _on_disk(self, node_id: int, incarnation: int) -> None:
        node = self.nodes[node_id]
        if node.alive and node.incarnation == incarnation and node.writing is not None:
            node.finish_write()

    def _on_next_op(self, client_id: int) -> None:
        if self.stopping:
            return
        client = self.clients[client_id - 1]
        client.next_op(self.history)
        self.schedule(self.client_timeout_us, "timeout", client_id, client.op.op_id)

    def _on_request(self, node_id: int, client_id: int, op_id: int) -> None:
        client = self.clients[client_id - 1]
        op = client.op
        if op is None or op.op_id != op_id:
            return
        node = self.nodes[node_id]
        if not node.alive or node_id in self.removed:
            self.schedule(self.rng.randint(100, 1_000), "refused", client_id, op_id, 0)
            return
        err = node.client_request(client_id, op.cmd, op_id, op.key)
        self.trace_line(f"request c{client_id} op{op_id} -> node {node_id}: {err or 'accepted'}")
        if err is not None:
            hint = node.rn.raft.lead if err == NotLeaderError.__name__ else 0
            self.schedule(self.rng.randint(100, 1_000), "refused", client_id, op_id, hint)
        else:
            node.pump()
            self.invariants.on_node_step(node)

    def _on_refused(self, client_id: int, op_id: int, hint: int) -> None:
        self.clients[client_id - 1].on_error(op_id, hint)

    def _on_retry(self, client_id: int, op_id: int) -> None:
        client = self.clients[client_id - 1]
        if client.op is not None and client.op.op_id == op_id and self.now < client.op.deadline:
            client.send()

    def _on_reply(self, client_id: int, op_id: int, output) -> None:
        client = self.clients[client_id - 1]
        if client.op is None or client.op.op_id != op_id:
            return
        self.history.ok(self.history.ops[op_id], output)
        op = client.op
        if op.cmd is not None and (op.cmd.kind == "write" or output):
            vals = self.values.setdefault(op.key, [])
            vals.append(op.cmd.value)
            del vals[:-3]
        self.trace_line(f"ok c{client_id} op{op_id} -> {output}")
        if self.healed_at is not None:
            self.ok_after_heal += 1
        client.op = None
        self.schedule(self.rng.randint(0, 20_000), "next_op", client_id)

    def _on_timeout(self, client_id: int, op_id: int) -> None:
        client = self.clients[client_id - 1]
        if client.op is None or client.op.op_id != op_id:
            return
        self.history.info(self.history.ops[op_id], "no answer before the client's deadline")
        self.trace_line(f"timeout c{client_id} op{op_id}")
        client.op = None
        client.target = self.rng.choice(self.node_ids())
        self.schedule(self.rng.randint(0, 20_000), "next_op", client_id)

    def _on_nemesis(self) -> None:
        if self.healed_at is not None:
            return
        self.nemesis.step()
        self.schedule(self.rng.randint(*self.nemesis_every_us), "nemesis")

    def _on_heal(self, fault: str) -> None:
        if self.healed_at is None:
            self.nemesis.end(fault)


def run_seed(cfg: SimConfig) -> SimResult:
    return Simulation(cfg).run()
