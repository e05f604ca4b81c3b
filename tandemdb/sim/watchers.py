"""Simulated watchers: clients that stream a key range's changes with ``WatchCreate`` (the node answers with
``WatchEvents`` responses carrying the watch request's id, on the same connection, in order) and record what
they receive for the watch checker (``tandemdb.checker.watch``).

A watcher starts at revision 1. When its node crashes, cancels the watch or refuses the request, and now and
then of its own accord (a client moving to another node: the node is told its connection closed), it opens a
new watch on another node from the last revision it received + 1, as an etcd client resumes: it must get no
gap and no duplicate. A watch canceled because its start revision was compacted starts a new log from the
first revision still held.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..checker.watch import WatchLog
from ..kv.results import EventType
from ..wire.client_api import Error, Reply, Request, WatchCreate, WatchEvents
from . import views

if TYPE_CHECKING:
    from .simulation import Simulation

WATCH_CONN = 10_000  # watcher i uses connection WATCH_CONN + i on every node
MOVE_EVERY_US = (300_000, 2_000_000)


class SimWatcher:
    def __init__(self, sim: Simulation, index: int, key: bytes, range_end: bytes) -> None:
        self.sim = sim
        self.index = index
        self.conn = WATCH_CONN + index
        self.key, self.range_end = key, range_end
        self.target = sim.rng.choice(sim.node_ids())
        self.req = 0  # id of the open watch request (0: none open)
        self.next_req = 0
        self.logs: list[WatchLog] = [WatchLog(f"w{index}", 1)]

    @property
    def log(self) -> WatchLog:
        return self.logs[-1]

    def next_revision(self) -> int:
        return self.log.events[-1][0] + 1 if self.log.events else self.log.start

    def open(self) -> None:
        """Open a watch on ``target`` from the revision after the last one received."""
        sim = self.sim
        self.next_req += 1
        self.req = self.next_req
        op = WatchCreate(self.key, self.range_end, start_revision=self.next_revision())
        sim.trace_line(f"w{self.index} watch #{self.req} -> node {self.target} from revision {op.start_revision}")
        req = Request(self.req, op, group=views.GROUP)
        sim.schedule(sim.rng.randint(100, 1_000), "request", self.target, self.conn, req)

    def reopen_elsewhere(self, pause: bool = True) -> None:
        """The watch ended: open a new one on another node, after a short pause."""
        sim = self.sim
        self.req = 0
        others = [n for n in sim.node_ids() if n != self.target]
        self.target = sim.rng.choice(others or sim.node_ids())
        sim.schedule(sim.rng.randint(1_000, 20_000) if pause else 0, "watch_open", self.index)

    def move(self) -> None:
        """Of its own accord: close the connection to this node and resume on another."""
        if self.req:
            host = self.sim.hosts.get(self.target)
            if host is not None and host.node is not None:
                host.node.disconnect(self.conn)  # as the server shell does when a connection closes
                self.sim.after_event(host)
            self.sim.trace_line(f"w{self.index} leaves node {self.target}")
            self.reopen_elsewhere()

    def on_reply(self, req_id: int, reply: Reply) -> None:
        if req_id != self.req:
            return  # from a watch already given up on
        if isinstance(reply, Error):
            self.sim.trace_line(f"w{self.index} #{req_id} <- {reply.kind}")
            self.reopen_elsewhere()
            return
        if not isinstance(reply, WatchEvents):
            raise AssertionError(f"watcher {self.index}: a watch answered with {reply!r}")
        log = self.log
        for e in reply.events:
            value = None if e.type == EventType.DELETE else e.kv.value.decode()
            log.events.append((e.kv.mod_revision, e.kv.key.decode(), value))
        log.covered = max(log.covered, reply.revision)
        if reply.canceled:
            self.sim.trace_line(f"w{self.index} #{req_id} canceled: {reply.reason}")
            if reply.compact_revision:
                self.logs.append(WatchLog(f"w{self.index}.{len(self.logs)}", reply.compact_revision + 1))
            self.reopen_elsewhere()

    def on_closed(self, req_id: int) -> None:
        """Its connection was refused or closed (the node is down)."""
        if req_id == self.req:
            self.reopen_elsewhere()
