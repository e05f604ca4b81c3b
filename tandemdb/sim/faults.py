"""The simulator's nemesis: a seeded schedule of faults, each healed after a while, and all healed at the end.

Fault kinds (``--faults``): see ``FAULTS``. Where the product offers a way, a fault goes through it, as an
operator's request to the leader: leadership moves with ``MoveLeader``, and a node is replaced with
``MemberRemove``, ``MemberAdd`` (a fresh node, as a learner) and ``MemberPromote`` (which the node refuses
until the learner has caught up: the nemesis asks again).
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from ..wire.client_api import MemberAdd, MemberPromote, MemberRemove, MoveLeader
from . import views
from .host import DATA_DIR, member

if TYPE_CHECKING:
    from .simulation import Simulation

FAULTS: dict[str, str] = {
    "partition": "network partitions: isolate one, isolate the leader, majority/minority, majorities ring, bridge",
    "crash": "crash and restart one node, a minority, a majority or the leader; unsynced writes are lost or torn",
    "skew": "a node's clock runs fast or slow (its ticks come at another rate)",
    "loss": "messages are dropped at random",
    "duplicate": "messages are delivered twice",
    "delay": "some messages are delayed long enough to be reordered",
    "membership": "replace a node: remove it, add a new node as a learner, promote it once it has caught up",
    "transfer": "transfer leadership to a random voter",
    "snapshot": "frequent snapshots and log compaction, so that followers catch up by chunked snapshots",
    "disk": "flip a bit in the middle of a stopped node's log: it must refuse to start, and is replaced",
}


def parse_faults(spec: str) -> frozenset[str]:
    if spec in ("", "none"):
        return frozenset()
    if spec == "all":
        return frozenset(FAULTS)
    names = frozenset(s.strip() for s in spec.split(",") if s.strip())
    unknown = names - FAULTS.keys()
    if unknown:
        raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}; choose from {', '.join(FAULTS)} or all")
    return names


class Nemesis:
    def __init__(self, sim: Simulation, faults: frozenset[str]) -> None:
        self.sim = sim
        self.faults = sorted(faults)  # sorted: iteration order must not depend on string hashing
        self.active: set[str] = set()
        self.member_phase: tuple[str, int, int] | None = None  # (phase, node, retry-after time)
        self.crashed: list[int] = []
        self.corrupted = 0
        self.skewed = 0

    def step(self) -> None:
        """Start one fault (if any is enabled and not already active), and drive a membership change along."""
        sim, rng = self.sim, self.sim.rng
        if "membership" in self.faults and self.member_phase is not None:
            self.drive_membership()
        idle = [f for f in self.faults if f not in self.active]
        if not idle:
            return
        fault = rng.choice(idle)
        getattr(self, "start_" + fault)()
        sim.trace_line(f"nemesis start {fault}")

    def end(self, fault: str) -> None:
        if fault in self.active:
            getattr(self, "end_" + fault)()
            self.active.discard(fault)
            self.sim.trace_line(f"nemesis end {fault}")

    def heal_all(self) -> None:
        for fault in sorted(self.active):
            self.end(fault)

    def _for(self, fault: str, lo_us: int, hi_us: int) -> None:
        self.active.add(fault)
        self.sim.schedule(self.sim.rng.randint(lo_us, hi_us), "heal", fault)

    # -- network -------------------------------------------------------------------------------------------------
    def start_partition(self) -> None:
        sim, rng = self.sim, self.sim.rng
        nodes = sim.live_ids()
        rng.shuffle(nodes)
        shape = rng.choice(  # isolating new leaders twice as often: it is the rarest setting to reach by chance
            (
                "isolate-one",
                "isolate-leader",
                "isolate-new-leaders",
                "isolate-new-leaders",
                "majority-minority",
                "majorities-ring",
                "bridge",
            )
        )
        net = sim.network
        if shape == "isolate-new-leaders":
            # Cut off every leader the moment it is elected, before it replicates anything: the isolated
            # leaders pile up divergent tails of client writes, the setting of the paper's Figure 8.
            sim.isolate_new_leaders = True
        elif shape == "isolate-leader" and (leader := sim.leader()) is not None:
            lead = leader.id
            net.cut([[lead], [n for n in nodes if n != lead]])
        elif shape == "majority-minority":
            k = len(nodes) // 2
            net.cut([nodes[:k], nodes[k:]])
        elif shape == "majorities-ring":
            net.ring(sorted(nodes))
        elif shape == "bridge" and len(nodes) >= 3:
            mid = len(nodes) // 2
            net.cut([nodes[: mid + 1], nodes[mid:]])  # nodes[mid] sees both halves
        else:
            net.cut([nodes[:1], nodes[1:]])
        sim.trace_line(f"partition {shape} blocked={sorted(net.blocked)}")
        self._for("partition", 300_000, 3_000_000)

    def end_partition(self) -> None:
        self.sim.isolate_new_leaders = False
        self.sim.network.heal()

    def start_loss(self) -> None:
        self.sim.network.model.loss = self.sim.rng.uniform(0.02, 0.3)
        self._for("loss", 500_000, 3_000_000)

    def end_loss(self) -> None:
        self.sim.network.model.loss = 0.0

    def start_duplicate(self) -> None:
        self.sim.network.model.duplicate = self.sim.rng.uniform(0.05, 0.3)
        self._for("duplicate", 500_000, 3_000_000)

    def end_duplicate(self) -> None:
        self.sim.network.model.duplicate = 0.0

    def start_delay(self) -> None:
        model, rng = self.sim.network.model, self.sim.rng
        model.slow_prob = rng.uniform(0.05, 0.4)
        model.slow_delay = rng.choice((30_000, 300_000, 1_000_000))  # up to an election or two
        self._for("delay", 500_000, 3_000_000)

    def end_delay(self) -> None:
        self.sim.network.model.slow_prob = 0.0
        self.sim.network.model.slow_delay = 30_000

    # -- processes -----------------------------------------------------------------------------------------------
    def start_crash(self) -> None:
        """Crash at a random moment, or at the moments where a missing fsync or a forgotten vote hurts most:
        while a write is in flight, right after granting a vote, right after winning an election."""
        sim, rng = self.sim, self.sim.rng
        nodes = sim.live_ids()
        self.crashed = []
        r = rng.random()
        leader = sim.leader()
        if r < 0.15 and leader is not None:
            victims = [leader.id]
        elif r < 0.3:
            victims = [rng.choice(nodes)]
        elif r < 0.4:
            victims = rng.sample(nodes, max(1, (len(nodes) - 1) // 2))
        elif r < 0.45:
            victims = rng.sample(nodes, len(nodes) // 2 + 1)
        elif r < 0.6:
            victims = [n for n in nodes if sim.hosts[n].writes][:1] or [rng.choice(nodes)]
        else:
            sim.crash_trap = True
            sim.trace_line("crash traps armed")
            self._for("crash", 1_000_000, 5_000_000)
            return
        for n in sorted(victims):
            sim.crash(n)
        self.crashed = sorted(victims)
        quick = rng.random() < 0.4
        self._for("crash", *((1_000, 30_000) if quick else (50_000, 2_000_000)))

    def end_crash(self) -> None:
        self.sim.crash_trap = False
        for n in self.crashed:
            self.sim.restart(n)

    def start_skew(self) -> None:
        sim, rng = self.sim, self.sim.rng
        host = sim.hosts[rng.choice(sim.live_ids())]
        host.tick_us = int(sim.tick_us * rng.choice((0.5, 0.7, 1.3, 2.0)))
        self.skewed = host.id
        self._for("skew", 1_000_000, 5_000_000)

    def end_skew(self) -> None:
        self.sim.hosts[self.skewed].tick_us = self.sim.tick_us

    # -- operations ----------------------------------------------------------------------------------------------
    def start_transfer(self) -> None:
        sim = self.sim
        lead = sim.leader()
        if lead is not None:
            voters = [v for v in views.conf_state_of(lead.running).voters if v != lead.id]
            if voters:
                target = sim.rng.choice(voters)
                sim.admin(lead.id, MoveLeader(target))
                sim.trace_line(f"transfer {lead.id}->{target}")

    def end_transfer(self) -> None:
        pass

    def start_snapshot(self) -> None:
        rng = self.sim.rng
        self.sim.set_snapshot_knobs(rng.randint(5, 40), rng.randint(0, 5))
        self._for("snapshot", 1_000_000, 5_000_000)

    def end_snapshot(self) -> None:
        d = self.sim.default_params
        self.sim.set_snapshot_knobs(d["snapshot_every"], d["keep_entries"])

    def start_disk(self) -> None:
        """Corrupt a record in a stopped node's log, away from the tail (a bad record at the very end of the
        log cannot be told from a torn write, and is cut off like one)."""
        sim, rng = self.sim, self.sim.rng
        lead = sim.leader()
        if sim.failed or self.member_phase is not None or lead is None:
            return
        if len(views.conf_state_of(lead.running).voters) < 3:
            return  # lose a node for good only while the configuration can spare one
        if not sim.down_ids():
            sim.crash(rng.choice(sim.live_ids()))
        node = sim.hosts[rng.choice(sim.down_ids())]
        wal_dir = posixpath.join(DATA_DIR, "wal")
        segments = sorted(n for n in node.disk.list_dir(wal_dir) if n.endswith(".wal"))[:-1]
        if not segments:
            return
        path = posixpath.join(wal_dir, rng.choice(segments))
        used = len(node.disk.read(path).rstrip(b"\0"))
        offset = rng.randint(used // 4, used // 2)
        node.disk.flip_bit(path, offset)
        sim.trace_line(f"disk: flipped a bit of node {node.id} at {path}:{offset}")
        self.corrupted = node.id
        self._for("disk", 10_000, 500_000)

    def end_disk(self) -> None:
        self.sim.restart(self.corrupted)

    def replace(self, node_id: int) -> None:
        """A node is lost for good: replace it through a membership change, when membership faults are on."""
        if "membership" in self.faults and self.member_phase is None:
            self.member_phase = ("remove", node_id, 0)

    def start_membership(self) -> None:
        if self.member_phase is None:
            sim = self.sim
            lead = sim.leader()
            if lead is None:
                return
            cs = views.conf_state_of(lead.running)
            if cs.voters_outgoing or cs.learners:
                return
            victim = sim.rng.choice(sorted(cs.voters))
            self.member_phase = ("remove", victim, 0)
            self.drive_membership()

    def end_membership(self) -> None:
        pass

    def drive_membership(self) -> None:
        """Advance the replacement of a node one step, once the leader has applied its previous step; a step
        not applied yet is asked for again after a while."""
        sim = self.sim
        lead = sim.leader()
        if lead is None or self.member_phase is None:
            return
        phase, node, retry_at = self.member_phase
        cs = views.conf_state_of(lead.running)
        request: MemberRemove | MemberAdd | MemberPromote
        if phase == "remove":
            if node not in cs.voters and node not in cs.learners and not cs.voters_outgoing:
                sim.remove_node(node)
                new = sim.add_node()
                self.member_phase = ("learner", new, 0)
                return self.drive_membership()
            request = MemberRemove(node)
        elif phase == "learner":
            if node in cs.learners:
                self.member_phase = ("promote", node, 0)
                return self.drive_membership()
            request = MemberAdd(member(node), learner=True)
        else:
            if node in cs.voters and not cs.voters_outgoing:
                self.member_phase = None
                sim.trace_line(f"membership: node {node} promoted")
                return
            request = MemberPromote(node)
        if sim.now < retry_at:
            return
        sim.admin(lead.id, request)
        sim.trace_line(f"membership: {phase} {node} asked of {lead.id}")
        self.member_phase = (phase, node, sim.now + 200_000)
