"""Where the nodes of a chaos run live, and how they are cut apart.

- ``NamespaceNet`` (mode "netns"): as root with ``ip netns`` and iptables, each node runs in its own network
  namespace with its own address on a private bridge; a partition is real (iptables drops).
- ``LoopbackNet`` (mode "loopback"): every node on 127.0.0.1; partitions go through the nodes' debug fault
  hook in the peer transport (``tandemdb.server.debug_faults``).

``open_net("auto")`` tries namespaces first and falls back to loopback, saying why.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess

from ..tools.local_cluster import HOST, NodeSpec, free_ports


class NetError(RuntimeError):
    pass


class LoopbackNet:
    mode = "loopback"
    real_partitions = False

    def spec(self, node_id: int, *, join: bool = False) -> NodeSpec:
        client, peer, http = (f"{HOST}:{p}" for p in free_ports(3))
        return NodeSpec(node_id, client, peer, http, zone=f"local-{'abc'[(node_id - 1) % 3]}", join=join)

    def add(self, node_id: int) -> None:
        pass

    def remove(self, node_id: int) -> None:
        pass

    def prefix(self, node_id: int) -> list[str]:
        return []

    def block(self, grudges: dict[int, set[int]]) -> None:
        raise NetError("loopback mode partitions through the nodes' fault hook")

    def close(self) -> None:
        pass


class NamespaceNet:
    """One bridge ``tcb<tag>`` with address 10.213.<b>.1/24 for the controller; node i in namespace
    ``tandem-<tag>-<i>`` at 10.213.<b>.<10 + i>, linked to the bridge by a veth pair."""

    mode = "netns"
    real_partitions = True
    CLIENT_PORT, PEER_PORT, HTTP_PORT = 2379, 2380, 8080

    def __init__(self) -> None:
        rng = random.Random()
        self.tag = f"{rng.getrandbits(16):04x}"
        used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=False).stdout
        free = [b for b in range(256) if f"10.213.{b}." not in used]
        if not free:
            raise NetError("no free 10.213.x.0/24 subnet")
        self.subnet = f"10.213.{rng.choice(free)}"
        self.bridge = f"tcb{self.tag}"
        self.nodes: set[int] = set()
        _ip("link", "add", self.bridge, "type", "bridge")
        try:
            _ip("addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
        except NetError:
            self.close()
            raise

    def namespace(self, node_id: int) -> str:
        return f"tandem-{self.tag}-{node_id}"

    def host(self, node_id: int) -> str:
        if node_id > 240:
            raise NetError("node ids above 240 have no address in this subnet")
        return f"{self.subnet}.{10 + node_id}"

    def spec(self, node_id: int, *, join: bool = False) -> NodeSpec:
        host = self.host(node_id)
        return NodeSpec(
            node_id,
            f"{host}:{self.CLIENT_PORT}",
            f"{host}:{self.PEER_PORT}",
            f"{host}:{self.HTTP_PORT}",
            zone=f"local-{'abc'[(node_id - 1) % 3]}",
            join=join,
        )

    def add(self, node_id: int) -> None:
        ns, veth = self.namespace(node_id), f"tcv{self.tag}{node_id}"
        _ip("netns", "add", ns)
        self.nodes.add(node_id)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", ns, "addr", "add", f"{self.host(node_id)}/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", ns, "link", "set", "lo", "up")

    def remove(self, node_id: int) -> None:
        if node_id in self.nodes:
            self.nodes.discard(node_id)
            _ip("netns", "del", self.namespace(node_id), check=False)  # its veth pair goes with it

    def prefix(self, node_id: int) -> list[str]:
        return ["ip", "netns", "exec", self.namespace(node_id)]

    def block(self, grudges: dict[int, set[int]]) -> None:
        """Node i drops every packet from the nodes in ``grudges[i]``; nodes not named drop nothing."""
        for node_id in sorted(self.nodes):
            rules = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
            rules += [f"-A INPUT -s {self.host(p)} -j DROP" for p in sorted(grudges.get(node_id, ()))]
            rules.append("COMMIT")
            _run(["ip", "netns", "exec", self.namespace(node_id), "iptables-restore"], "\n".join(rules) + "\n")

    def close(self) -> None:
        for node_id in sorted(self.nodes):
            self.remove(node_id)
        _ip("link", "del", self.bridge, check=False)


def open_net(mode: str) -> tuple[LoopbackNet | NamespaceNet, str]:
    """The net for ``mode`` ("auto", "netns" or "loopback"), and why auto chose it."""
    if mode == "loopback":
        return LoopbackNet(), "asked for loopback"
    missing = [tool for tool in ("ip", "iptables-restore") if shutil.which(tool) is None]
    reason = ""
    if os.geteuid() != 0:
        reason = "not root"
    elif missing:
        reason = f"{' and '.join(missing)} not installed"
    else:
        try:
            net = NamespaceNet()
            _probe(net)
            return net, "root, with network namespaces and iptables"
        except NetError as e:
            reason = str(e)
    if mode == "netns":
        raise NetError(f"network namespaces are not available: {reason}")
    return LoopbackNet(), f"network namespaces not available ({reason})"


def _probe(net: NamespaceNet) -> None:
    """Check that a namespace can be made and filtered (a container may refuse either)."""
    try:
        net.add(0)
        net.block({0: set()})
    except NetError:
        net.close()
        raise
    net.remove(0)


def _ip(*args: str, check: bool = True) -> None:
    _run(["ip", *args], None, check)


def _run(cmd: list[str], stdin: str | None, check: bool = True) -> None:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise NetError(f"{' '.join(cmd)}: {proc.stderr.strip() or f'exit status {proc.returncode}'}")
