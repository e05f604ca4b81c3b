"""``LocalCluster``: a cluster of real ``tandem start`` processes on one machine, for the demo, the integration
tests, and the chaos and benchmark tools.

Layout of its directory::

    <root>/cluster.json     the layout: ids, addresses, labels and timings (reused when the cluster is reopened)
    <root>/node-<id>/       each node's data directory
    <root>/node-<id>.log    each node's output (appended to across restarts)

It never prints; errors come back as exceptions (``ClusterError``) that quote the end of the node's log.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

LAYOUT_FILE = "cluster.json"
HOST = "127.0.0.1"


class ClusterError(RuntimeError):
    pass


@dataclass
class NodeSpec:
    id: int
    client: str  # host:port of the native protocol
    peer: str
    http: str  # host:port of the HTTP API
    region: str = "local"
    zone: str = "local-a"
    join: bool = False  # joined a running cluster rather than founding it

    @property
    def http_url(self) -> str:
        return f"http://{self.http}"


@dataclass
class Timing:
    tick_ms: int = 100
    election_ticks: int = 10
    heartbeat_ticks: int = 1


@dataclass
class NodeState:
    """One row of ``LocalCluster.status``; ``status`` is the node's ``/v1/status`` JSON, None if it did not answer."""

    spec: NodeSpec
    pid: int | None
    running: bool
    status: dict | None = None

    @property
    def up(self) -> bool:
        return self.running and self.status is not None


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct ports that were free a moment ago. They are picked below the kernel's ephemeral range
    when it leaves room, so that no outgoing connection takes one before its node binds it."""
    low = _ephemeral_low()
    if low > _PICK_FROM + 1000:
        rng, picked = random.Random(), []
        for _ in range(100 * count):
            port = rng.randrange(_PICK_FROM, low)
            if port not in picked and port_free(f"{host}:{port}"):
                picked.append(port)
                if len(picked) == count:
                    return picked
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


_PICK_FROM = 20000


def _ephemeral_low() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def port_free(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is no conflict
        try:
            s.bind((host, int(port)))
        except OSError:
            return False
    return True


def _zone(index: int) -> str:
    return f"local-{'abc'[index % 3]}"


@dataclass
class LocalCluster:
    root: Path
    nodes: dict[int, NodeSpec]
    timing: Timing = field(default_factory=Timing)
    cluster_id: int = 1
    log_level: str = "info"
    procs: dict[int, subprocess.Popen] = field(default_factory=dict)

    # -- creating and opening -------------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, root: str | os.PathLike, nodes: int = 3, *, base_port: int | None = None, region: str = "local",
        timing: Timing | None = None, cluster_id: int = 1, log_level: str = "info",
    ) -> Self:
        """A new layout of ``nodes`` nodes (saved to ``cluster.json``; nothing is started). With ``base_port``
        node k (0-based) listens on base_port+3k (client), +1 (peer), +2 (http); otherwise on free ports."""
        root = Path(root)
        if (root / LAYOUT_FILE).exists():
            raise ClusterError(f"{root / LAYOUT_FILE} exists: open the cluster instead")
        ports = list(range(base_port, base_port + 3 * nodes)) if base_port else free_ports(3 * nodes)
        specs = {}
        for k in range(nodes):
            client, peer, http = (f"{HOST}:{p}" for p in ports[3 * k : 3 * k + 3])
            specs[k + 1] = NodeSpec(k + 1, client, peer, http, region, _zone(k))
        self = cls(root, specs, timing or Timing(), cluster_id, log_level)
        root.mkdir(parents=True, exist_ok=True)
        self.save()
        return self

    @classmethod
    def load(cls, root: str | os.PathLike, *, log_level: str = "info") -> Self:
        root = Path(root)
        try:
            raw = json.loads((root / LAYOUT_FILE).read_text())
            nodes = {n["id"]: NodeSpec(**n) for n in raw["nodes"]}
            return cls(root, nodes, Timing(**raw["timing"]), raw["cluster_id"], log_level)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ClusterError(f"cannot read {root / LAYOUT_FILE}: {e}") from None

    @staticmethod
    def exists(root: str | os.PathLike) -> bool:
        return (Path(root) / LAYOUT_FILE).exists()

    def save(self) -> None:
        data = {
            "cluster_id": self.cluster_id,
            "timing": asdict(self.timing),
            "nodes": [asdict(spec) for spec in self.nodes.values()],
        }
        tmp = self.root / (LAYOUT_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, self.root / LAYOUT_FILE)

    # -- layout -------------------------------------------------------------------------------------------------
    def data_dir(self, node_id: int) -> Path:
        return self.root / f"node-{node_id}"

    def log_file(self, node_id: int) -> Path:
        return self.root / f"node-{node_id}.log"

    def initial_cluster(self) -> str:
        return ",".join(f"{s.id}={s.peer}" for s in self.nodes.values())

    def endpoints(self) -> list[str]:
        """Every node's native client address."""
        return [s.client for s in self.nodes.values()]

    def add_node(self, *, region: str | None = None, zone: str | None = None) -> NodeSpec:
        """A new node in the layout, to start with ``start(id)`` once ``member add`` made it a member."""
        node_id = max(self.nodes, default=0) + 1
        client, peer, http = (f"{HOST}:{p}" for p in free_ports(3))
        first = next(iter(self.nodes.values()), None)
        spec = NodeSpec(node_id, client, peer, http, region or (first.region if first else "local"),
                        zone or _zone(node_id - 1), join=True)
        self.nodes[node_id] = spec
        self.save()
        return spec

    def remove_node(self, node_id: int) -> None:
        """Drop a node (stopped, and already removed from the membership) from the layout."""
        if self.running(node_id):
            raise ClusterError(f"node {node_id} is still running")
        del self.nodes[node_id]
        self.procs.pop(node_id, None)
        self.save()

    # -- processes ----------------------------------------------------------------------------------------------
    def command(self, node_id: int) -> list[str]:
        s, t = self.nodes[node_id], self.timing
        cmd = [
            sys.executable, "-m", "tandemdb.cli.main", "start",
            "--id", str(s.id),
            "--data-dir", str(self.data_dir(s.id)),
            "--listen-client", s.client,
            "--listen-peer", s.peer,
            "--listen-http", s.http,
            "--initial-cluster", self.initial_cluster(),
            "--cluster-id", str(self.cluster_id),
            "--region", s.region,
            "--zone", s.zone,
            "--tick-ms", str(t.tick_ms),
            "--election-ticks", str(t.election_ticks),
            "--heartbeat-ticks", str(t.heartbeat_ticks),
            "--log-level", self.log_level,
        ]
        return cmd + ["--join"] if s.join else cmd

    def start(self, node_id: int) -> int:
        """Start (or restart, on its data directory) one node; returns its pid."""
        if self.running(node_id):
            raise ClusterError(f"node {node_id} is already running (pid {self.procs[node_id].pid})")
        spec = self.nodes[node_id]
        busy = [a for a in (spec.client, spec.peer, spec.http) if not port_free(a)]
        if busy:
            raise ClusterError(f"node {node_id}: address {', '.join(busy)} in use (is another cluster running?)")
        with open(self.log_file(node_id), "ab") as log:
            proc = subprocess.Popen(
                self.command(node_id), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C at the terminal reaches only the controller, which stops nodes
            )
        self.procs[node_id] = proc
        return proc.pid

    def start_all(self) -> None:
        for node_id in self.nodes:
            if not self.running(node_id):
                self.start(node_id)

    def running(self, node_id: int) -> bool:
        proc = self.procs.get(node_id)
        return proc is not None and proc.poll() is None

    def pid(self, node_id: int) -> int | None:
        return self.procs[node_id].pid if self.running(node_id) else None

    def returncode(self, node_id: int) -> int | None:
        proc = self.procs.get(node_id)
        return None if proc is None else proc.poll()

    def stop(self, node_id: int, timeout: float = 15.0) -> int | None:
        """SIGTERM (graceful: a leader hands over first), then SIGKILL if it is still running after ``timeout``.
        Returns the exit status (None if it was not running)."""
        return self._signal(node_id, signal.SIGTERM, timeout)

    def kill(self, node_id: int) -> int | None:
        return self._signal(node_id, signal.SIGKILL, 10.0)

    def restart(self, node_id: int, *, graceful: bool = True) -> int:
        """Stop (SIGTERM, or SIGKILL if not ``graceful``) and start again on the same data; returns the new pid."""
        if graceful:
            self.stop(node_id)
        else:
            self.kill(node_id)
        return self.start(node_id)

    def pause(self, node_id: int) -> None:
        """SIGSTOP: the node stays up but does nothing (a long GC pause, a stuck disk) until ``resume``."""
        if self.running(node_id):
            self.procs[node_id].send_signal(signal.SIGSTOP)

    def resume(self, node_id: int) -> None:
        if self.running(node_id):
            self.procs[node_id].send_signal(signal.SIGCONT)

    def stop_all(self, timeout: float = 15.0) -> None:
        """SIGTERM every node at once, then wait for each."""
        live = [i for i in self.procs if self.running(i)]
        for node_id in live:
            self._send(node_id, signal.SIGTERM)
        for node_id in live:
            self._wait_or_kill(node_id, timeout)

    def kill_all(self) -> None:
        live = [i for i in self.procs if self.running(i)]
        for node_id in live:
            self.procs[node_id].kill()
        for node_id in live:
            self.procs[node_id].wait()

    def _signal(self, node_id: int, sig: int, timeout: float) -> int | None:
        if not self.running(node_id):
            return None
        self._send(node_id, sig)
        return self._wait_or_kill(node_id, timeout)

    def _send(self, node_id: int, sig: int) -> None:
        proc = self.procs[node_id]
        proc.send_signal(sig)
        if sig == signal.SIGTERM:
            proc.send_signal(signal.SIGCONT)  # a paused node must run to stop

    def _wait_or_kill(self, node_id: int, timeout: float) -> int:
        proc = self.procs[node_id]
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def log_tail(self, node_id: int, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file(node_id).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- observing --------------------------------------------------------------------------------------------------
    def node_status(self, node_id: int, timeout: float = 1.0) -> dict | None:
        """The node's ``/v1/status``, or None if it does not answer."""
        try:
            with urllib.request.urlopen(self.nodes[node_id].http_url + "/v1/status", timeout=timeout) as resp:
                return json.loads(resp.read())
        except (OSError, ValueError, urllib.error.URLError):
            return None

    def status(self) -> list[NodeState]:
        out = []
        for node_id, spec in self.nodes.items():
            running = self.running(node_id)
            out.append(NodeState(spec, self.pid(node_id), running, self.node_status(node_id) if running else None))
        return out

    def leader(self) -> int | None:
        """The leader that every answering running node agrees on, if it runs and says it leads."""
        answers = {s.spec.id: s.status for s in self.status() if s.running and s.status is not None}
        leaders = {status["leader"] for status in answers.values()}
        if len(leaders) != 1:
            return None
        leader = leaders.pop()
        mine = answers.get(leader)
        return leader if mine is not None and mine["is_leader"] else None

    def wait_for_leader(self, timeout: float = 30.0, *, exclude: int | None = None) -> int:
        """Poll until ``leader()`` names a node (other than ``exclude``); raises ``ClusterError`` after
        ``timeout`` seconds, or at once if a node exited."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            leader = self.leader()
            if leader is not None and leader != exclude:
                return leader
            if time.monotonic() > deadline:
                raise ClusterError(f"no leader after {timeout:.0f} s: {self._describe()}")
            time.sleep(0.05)

    def wait_applied(self, node_id: int, index: int, timeout: float = 30.0) -> dict:
        """Poll until ``node_id`` applied ``index``; returns its status."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            st = self.node_status(node_id)
            if st is not None and st["applied_index"] >= index:
                return st
            if time.monotonic() > deadline:
                raise ClusterError(f"node {node_id} did not apply index {index} in {timeout:.0f} s: {st}")
            time.sleep(0.05)

    def _check_alive(self) -> None:
        for node_id, proc in self.procs.items():
            code = proc.poll()
            if code is not None and code > 0:  # it failed on its own (signals give negative codes)
                raise ClusterError(f"node {node_id} exited with status {code}:\n{self.log_tail(node_id)}")

    def _describe(self) -> str:
        parts = []
        for s in self.status():
            st = s.status
            if st is not None:
                what = f"leader={st['leader']} term={st['term']}"
            else:
                what = "no answer" if s.running else "down"
            parts.append(f"node {s.spec.id}: {what}")
        return "; ".join(parts)

    # -- context manager: whatever happens, no process is left behind ------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill_all()
