"""``ChaosCluster``: a ``LocalCluster`` whose nodes run with the debug fault hook (and, in namespace mode, each
in its own network namespace), plus the controls the nemeses use: kill, pause, partition, link and clock
faults. Every method blocks; the nemesis thread calls them.

The faults of node i live in ``<root>/faults/node-<i>.json`` (see ``tandemdb.server.debug_faults``), which the
node reads at start too: a node restarted during a fault comes back under it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..tools.local_cluster import LocalCluster, NodeSpec, Timing
from .net import LoopbackNet, NamespaceNet

# Fast enough for a short run to see many elections, slow enough for a loaded 2-core machine.
CHAOS_TIMING = Timing(tick_ms=50, election_ticks=10, heartbeat_ticks=1)


@dataclass
class NodeFaults:
    drop: list[int] = field(default_factory=list)
    delay_ms: int = 0
    jitter_ms: int = 0
    loss: float = 0.0
    clock_rates: list[float] = field(default_factory=lambda: [1.0])
    clock_period_ms: int = 1000
    clock_bump: dict = field(default_factory=dict)


@dataclass
class ChaosCluster(LocalCluster):
    net: LoopbackNet | NamespaceNet = field(default_factory=LoopbackNet)
    bugs: tuple[str, ...] = ()
    faults: dict[int, NodeFaults] = field(default_factory=dict)
    paused: set[int] = field(default_factory=set)
    retired: set[int] = field(default_factory=set)  # ids of removed nodes, never given out again
    bump_seq: int = 0

    @classmethod
    def build(
        cls,
        root: str | os.PathLike,
        nodes: int,
        net: LoopbackNet | NamespaceNet,
        *,
        bugs: tuple[str, ...] = (),
        timing: Timing = CHAOS_TIMING,
        log_level: str = "info",
    ) -> ChaosCluster:
        root = Path(root)
        (root / "faults").mkdir(parents=True, exist_ok=True)
        self = cls(root, {}, timing, log_level=log_level, net=net, bugs=tuple(bugs))
        for node_id in range(1, nodes + 1):
            self._place(net.spec(node_id))
        self.save()
        return self

    # -- layout and processes -------------------------------------------------------------------------------------
    def _place(self, spec: NodeSpec) -> None:
        self.net.add(spec.id)
        self.nodes[spec.id] = spec
        self.faults[spec.id] = NodeFaults()
        self._write_faults(spec.id)

    def add_node(self, *, region: str | None = None, zone: str | None = None) -> NodeSpec:
        """A new node (the next id) joining the cluster, to start once ``member add`` made it a member."""
        spec = self.net.spec(max(set(self.nodes) | self.retired, default=0) + 1, join=True)
        self._place(spec)
        self.save()
        return spec

    def remove_node(self, node_id: int) -> None:
        super().remove_node(node_id)
        self.retired.add(node_id)
        self.net.remove(node_id)
        self.faults.pop(node_id, None)
        self.paused.discard(node_id)

    def fault_file(self, node_id: int) -> Path:
        return self.root / "faults" / f"node-{node_id}.json"

    def command(self, node_id: int) -> list[str]:
        cmd = super().command(node_id) + ["--debug-faults", str(self.fault_file(node_id))]
        for bug in self.bugs:
            cmd += ["--bug", bug]
        return self.net.prefix(node_id) + cmd

    def start(self, node_id: int) -> int:
        """Start or restart a node. Unlike ``LocalCluster.start`` it does not probe the ports first: in
        namespace mode they are not this namespace's."""
        self.paused.discard(node_id)
        with open(self.log_file(node_id), "ab") as log:
            proc = subprocess.Popen(
                self.command(node_id),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs[node_id] = proc
        return proc.pid

    def kill(self, node_id: int) -> int | None:
        self.paused.discard(node_id)
        return super().kill(node_id)

    def pause(self, node_id: int) -> None:
        if self.running(node_id):
            os.kill(self.procs[node_id].pid, signal.SIGSTOP)
            self.paused.add(node_id)

    def resume(self, node_id: int) -> None:
        if node_id in self.paused and self.running(node_id):
            os.kill(self.procs[node_id].pid, signal.SIGCONT)
        self.paused.discard(node_id)

    def up(self) -> list[int]:
        """Nodes running and not paused."""
        return [i for i in list(self.nodes) if self.running(i) and i not in self.paused]  # nemeses change nodes

    def exited(self) -> dict[int, int]:
        """Nodes of the layout whose process ended on its own (a signal we sent gives a negative status)."""
        out = {}
        for node_id in self.nodes:
            code = self.returncode(node_id)
            if code is not None and code >= 0:
                out[node_id] = code
        return out

    # -- observing ----------------------------------------------------------------------------------------------
    def leader(self) -> int | None:
        """The node that says it leads with the highest term, among those up (a partition may leave an old
        leader that has not noticed yet)."""
        best: tuple[int, int] | None = None
        for node_id in self.up():
            st = self.node_status(node_id, timeout=0.5)
            if st is not None and st["is_leader"] and (best is None or st["term"] > best[0]):
                best = (st["term"], node_id)
        return None if best is None else best[1]

    def await_leader(self, timeout: float) -> int | None:
        """Like ``wait_for_leader`` but returns None on timeout, and tolerates nodes that exited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = self.leader()
            if leader is not None:
                return leader
            time.sleep(0.1)
        return None

    # -- faults -------------------------------------------------------------------------------------------------
    def partition(self, grudges: dict[int, set[int]]) -> None:
        """Node i stops hearing from the nodes in ``grudges[i]``; {} heals every partition."""
        if self.net.real_partitions:
            self.net.block(grudges)
            return
        for node_id, nf in self.faults.items():
            nf.drop = sorted(grudges.get(node_id, ()))
            self._write_faults(node_id)

    def set_links(self, node_ids: list[int], *, delay_ms: int = 0, jitter_ms: int = 0, loss: float = 0.0) -> None:
        for node_id in node_ids:
            nf = self.faults[node_id]
            nf.delay_ms, nf.jitter_ms, nf.loss = delay_ms, jitter_ms, loss
            self._write_faults(node_id)

    def set_clock(self, node_id: int, rates: list[float], period_ms: int = 1000, bump_ms: int = 0) -> None:
        nf = self.faults[node_id]
        nf.clock_rates, nf.clock_period_ms = rates, period_ms
        if bump_ms:
            self.bump_seq += 1
            nf.clock_bump = {"seq": self.bump_seq, "ms": bump_ms}
        self._write_faults(node_id)

    def _write_faults(self, node_id: int) -> None:
        path = self.fault_file(node_id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self.faults[node_id])))
        os.replace(tmp, path)

    def __exit__(self, *exc: object) -> None:
        for node_id in list(self.paused):
            self.resume(node_id)
        self.kill_all()
