"""An in-process cluster of node cores for tests: real ``Node`` objects over simulated disks, with messages
delivered and writes made durable by hand, one turn at a time. Deterministic: no clock, no threads."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

from tandemdb.node import Node, NodeConfig
from tandemdb.storage import NodeStorage
from tandemdb.storage.simdisk import SimDisk
from tandemdb.wire.client_api import Member, Reply, Request


def member(i: int) -> Member:
    return Member(i, f"10.0.0.{i}:2380", f"10.0.0.{i}:2379", f"http://10.0.0.{i}:8080", "r1", f"z{i}")


class Cluster:
    def __init__(self, size: int = 3, seed: int = 1, **cfg) -> None:
        self.rng = random.Random(seed)
        self.cfg = cfg
        self.disks: dict[int, SimDisk] = {}
        self.nodes: dict[int, Node] = {}
        self.down: set[int] = set()
        self.cut: set[frozenset[int]] = set()  # pairs that cannot talk
        self.replies: dict[int, list] = defaultdict(list)  # conn -> [(request id, reply)]
        self.delivered: Counter[int] = Counter()  # group -> peer messages delivered
        self.next_req = 0
        founders = [member(i) for i in range(1, size + 1)]
        for m in founders:
            self.add_node(m.id, founders)

    def add_node(self, node_id: int, founders: list[Member] | None) -> Node:
        disk = self.disks.setdefault(node_id, SimDisk(random.Random(self.rng.getrandbits(64))))
        storage = NodeStorage.open(disk, "/data", cluster_id=1, node_id=node_id)
        cfg = NodeConfig(member=member(node_id), **self.cfg)
        peers = {i: member(i).peer for i in range(1, 10)}
        node = Node(cfg, storage, random.Random(self.rng.getrandbits(64)), initial_members=founders, peers=peers)
        self.nodes[node_id] = node
        self.down.discard(node_id)
        return node

    def restart(self, node_id: int) -> Node:
        """Crash (unsynced writes lost) and start again from the disk."""
        self.disks[node_id].crash(tear=False)
        return self.add_node(node_id, None)

    # -- driving ------------------------------------------------------------------------------------------------------
    def step(self) -> None:
        """One turn on every live node: drain, make writes durable, deliver messages."""
        for nid, node in list(self.nodes.items()):
            if nid in self.down:
                continue
            for _ in range(8):  # finish writes until the node is quiet
                out = node.drain()
                for conn, resp in out.replies:
                    self.replies[conn].append((resp.id, resp.reply))
                for to, msgs in out.messages.items():
                    if to in self.nodes and to not in self.down and frozenset((nid, to)) not in self.cut:
                        self.delivered.update(gm.group for gm in msgs)
                        self.nodes[to].receive(msgs)
                if not out.persist:
                    break
                node.storage.commit(out.batch)
                node.persisted(out.persist, None)

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            for nid, node in self.nodes.items():
                if nid not in self.down:
                    node.tick()
            self.step()

    def settle(self, turns: int = 5) -> None:
        for _ in range(turns):
            self.step()

    def leader(self, group: int = 1) -> int:
        for _ in range(200):
            leaders = [i for i, n in self.nodes.items() if i not in self.down and n.groups[group].is_leader]
            if leaders:
                return leaders[0]
            self.tick()
        raise AssertionError("no leader elected")

    def wait_leader_except(self, old: int) -> int:
        for _ in range(300):
            self.tick()
            leaders = [
                i for i, n in self.nodes.items() if i not in self.down and i != old and n.groups[1].is_leader
            ]
            if leaders:
                return leaders[0]
        raise AssertionError("no new leader")

    def isolate(self, node_id: int) -> None:
        for other in self.nodes:
            if other != node_id:
                self.cut.add(frozenset((node_id, other)))

    def heal(self) -> None:
        self.cut.clear()

    # -- requests ------------------------------------------------------------------------------------------------------
    def send(self, node_id: int, op, conn: int = 1, **kw) -> int:
        self.next_req += 1
        self.nodes[node_id].request(conn, Request(self.next_req, op, **kw))
        return self.next_req

    def reply_to(self, req: int, conn: int = 1) -> Reply | None:
        for rid, reply in self.replies[conn]:
            if rid == req:
                return reply
        return None

    def call(self, node_id: int, op, conn: int = 1, ticks: int = 100, **kw) -> Reply:
        req = self.send(node_id, op, conn, **kw)
        self.step()
        for _ in range(ticks):
            reply = self.reply_to(req, conn)
            if reply is not None:
                return reply
            self.tick()
        raise AssertionError(f"no reply to {op!r}")
