"""Simulated clients: each runs one operation at a time against the real node's client API (``Request`` with
a KV command), follows leader hints, and records every operation in a history for the checker.

What a client does with each answer, as a real client (``tandemdb.client``) does:

- a result: the operation completed (``ok``), its output read from the reply by the workload;
- ``NOT_LEADER``, ``NO_LEADER``, ``UNAVAILABLE`` (not applied), a refused or lost connection, and ``TIMEOUT``
  or ``STORAGE`` (outcome unknown): send the same request again, to the hinted leader or another node, after a
  short pause. A write keeps its (client id, seq), so the node's client sessions apply it at most once however
  many copies reach the log;
- no answer to a write for a while (its reply may be lost; replies are lost while the network loses
  messages): send it again, same session, to another node, and take the first answer to any copy;
- the client's own deadline passes: the outcome is unknown (``info``); the client never sends it again and
  never counts it as failed;
- any other answer is a product bug, reported as a violation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..checker.history import Op
from ..wire.client_api import Error, ErrorKind, Reply, Request
from .invariants import Violation
from .workload import UnexpectedReply

if TYPE_CHECKING:
    from .simulation import Simulation

RETRY = frozenset(
    {ErrorKind.NOT_LEADER, ErrorKind.NO_LEADER, ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT, ErrorKind.STORAGE}
)


@dataclass
class Pending:
    op: Op  # in the history
    command: Any  # the request's operation
    seq: int  # its session's seq (0: a read, sent without a session); every retry carries the same one
    deadline: int
    reqs: set[int] = field(default_factory=set)  # ids of the requests sent for it
    node: int = 0  # where the last one went


class SimClient:
    def __init__(self, sim: Simulation, client_id: int) -> None:
        self.sim = sim
        self.id = client_id  # also its connection number on every node, and its session's client id
        self.target = sim.rng.choice(sim.node_ids())
        self.op: Pending | None = None
        self.seq = 0
        self.next_req = 0

    def next_op(self) -> None:
        sim, rng = self.sim, self.sim.rng
        f, key, value = sim.workload.invoke(rng, self.id)
        op = sim.history.invoke(self.id, f, key, value)
        seq = 0
        if sim.workload.is_write(op):
            self.seq += 1
            seq = self.seq
        command = sim.workload.command(op)
        if rng.random() < 0.2:
            self.target = rng.choice(sim.node_ids())  # clients do not all stick to one node
        self.op = Pending(op, command, seq, sim.now + sim.client_timeout_us)
        self.send()

    def send(self) -> None:
        assert self.op is not None
        self.next_req += 1
        self.op.reqs.add(self.next_req)
        self.op.node = self.target
        client_id = self.id if self.op.seq else 0  # a read goes without a session
        self.sim.client_send(
            self, self.target, Request(self.next_req, self.op.command, client_id=client_id, seq=self.op.seq)
        )
        if self.op.seq:  # no answer for a while (the reply may be lost): send the write again elsewhere
            sim = self.sim
            sim.schedule(sim.rng.randint(*sim.resend_us), "resend", self.id, self.op.op.id, self.next_req)

    def on_reply(self, req_id: int, reply: Reply) -> None:
        op = self.op
        if op is None or req_id not in op.reqs:
            return  # an answer to an operation already given up on
        if isinstance(reply, Error):
            if reply.kind not in RETRY:
                raise Violation(f"client {self.id}: unexpected error for {_show(op.op)}: {reply.kind} {reply.message}")
            self.sim.trace_line(f"c{self.id} op{op.op.id} <- {reply.kind} leader={reply.leader}")
            self.retry(reply.leader)
            return
        try:
            output = self.sim.workload.output(op.op, reply)
        except UnexpectedReply as e:
            raise Violation(f"client {self.id}: {e}") from None
        self.sim.completed(self, op.op, output)
        self.op = None

    def retry(self, hint: int = 0) -> None:
        """The request was not served (or its outcome is unknown): send it again after a short pause."""
        assert self.op is not None
        nodes = self.sim.node_ids()
        self.target = hint if hint in nodes else self.sim.rng.choice(nodes)
        self.sim.schedule(self.sim.rng.randint(1_000, 20_000), "retry", self.id, self.op.op.id)

    def resend(self) -> None:
        """A write got no answer for a while: send it again, with its session, to another node. The first
        answer to any of its copies completes it; the node's client sessions apply it once."""
        assert self.op is not None
        others = [n for n in self.sim.node_ids() if n != self.op.node]
        if others:
            self.target = self.sim.rng.choice(others)
        self.sim.trace_line(f"c{self.id} op{self.op.op.id} resend -> node {self.target}")
        self.send()

    def on_refused(self, req_id: int) -> None:
        """The connection was refused, or closed (its node crashed) with the request unanswered."""
        if self.op is not None and req_id in self.op.reqs:
            self.retry()

    def on_timeout(self) -> None:
        assert self.op is not None
        self.sim.history.info(self.op.op, "no answer before the client's deadline")
        self.sim.workload.indeterminate(self.op.op)
        self.op = None
        self.target = self.sim.rng.choice(self.sim.node_ids())


def _show(op: Op) -> str:
    return f"op {op.id} ({op.f} {op.key!r} {op.value!r})"
