"""Simulated clients: each runs one operation at a time (read, write or compare-and-set on a few keys),
follows leader hints, and records every operation in a history for the linearizability checker.

An operation that failed at once (the node said it appended nothing) is retried on another node; one that
timed out is indeterminate (``info``): it may still take effect, so the client never retries it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..checker.history import Recorder
from .kvsm import Command

if TYPE_CHECKING:
    from .simulation import Simulation

KEYS = ("a", "b", "c")


@dataclass
class Pending:
    op_id: int
    cmd: Command | None  # None for a read
    key: str
    deadline: int
    tries: int = 0


class SimClient:
    def __init__(self, sim: "Simulation", client_id: int) -> None:
        self.sim = sim
        self.id = client_id
        self.target = sim.rng.choice(sim.node_ids())
        self.op: Pending | None = None
        self.next_value = client_id * 1_000_000  # values written are unique, which sharpens the checker

    def next_op(self, history: Recorder) -> None:
        rng, now = self.sim.rng, self.sim.now
        key = rng.choice(KEYS)
        r = rng.random()
        if r < 0.4:
            op_id = history.invoke(self.id, "read", key).id
            cmd = None
        else:
            self.next_value += 1
            if r < 0.8:
                op_id = history.invoke(self.id, "write", key, self.next_value).id
                cmd = Command(op_id, "write", key, self.next_value)
            else:
                expected = rng.choice(self.sim.recent_values(key))
                op_id = history.invoke(self.id, "cas", key, (expected, self.next_value)).id
                cmd = Command(op_id, "cas", key, self.next_value, expected)
        if rng.random() < 0.2:
            self.target = rng.choice(self.sim.node_ids())  # clients do not all stick to one node
        self.op = Pending(op_id, cmd, key, now + self.sim.client_timeout_us)
        self.send()

    def send(self) -> None:
        assert self.op is not None
        self.op.tries += 1
        self.sim.client_send(self, self.op)

    def on_error(self, op_id: int, hint: int) -> None:
        """The node refused the operation before appending it: retry elsewhere after a short pause."""
        if self.op is None or self.op.op_id != op_id:
            return
        nodes = self.sim.node_ids()
        self.target = hint if hint in nodes else self.sim.rng.choice(nodes)
        self.sim.schedule(self.sim.rng.randint(1_000, 20_000), "retry", self.id, op_id)
