"""What the simulated clients do with one state machine: which operations they generate, how each becomes a
request to the node, how a reply becomes the operation's output in the history, and how the history is
checked at the end.

One ``Workload`` per state machine (``tandem sim --state-machine NAME``). To add one: implement the methods
of ``Workload`` over the state machine's real commands, and register it in ``WORKLOADS``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol

from ..checker import counter as counter_checker
from ..checker.history import Op
from ..checker.linearizability import check, describe
from ..counter import CounterAdd, CounterGet, CounterResult
from ..kv import Compare, Put, PutResult, Range, RangeResult, Txn, TxnResult
from ..wire.client_api import Reply


class UnexpectedReply(Exception):
    """The node answered an operation with something no correct node sends (a product bug)."""


class Workload(Protocol):
    name: str
    # The key range that simulated watchers stream (``WatchCreate`` key and range_end), checked by the watch
    # checker; None: the state machine has no watches.
    watch_range: tuple[bytes, bytes] | None

    def invoke(self, rng: random.Random, client: int) -> tuple[str, str, Any]:
        """The next operation of ``client``, as the history records it: (f, key, value)."""

    def command(self, op: Op) -> Any:
        """The request operation for ``op`` (the client adds its session to writes, so that a retry applies
        once)."""

    def is_write(self, op: Op) -> bool:
        """Whether ``op`` may change state (it then takes a new seq, and an unknown outcome is kept as ``info``)."""

    def output(self, op: Op, reply: Reply) -> Any:
        """The op's output from a successful reply; raises ``UnexpectedReply`` for anything else."""

    def indeterminate(self, op: Op) -> None:
        """The client gave up on ``op``: its outcome stays unknown (``info`` in the history)."""

    def check(self, ops: list[Op], max_steps: int) -> str | None:
        """Check the history; None if it passes, else why not. A check that cannot decide is a failure."""


class KVWorkload:
    """Reads, writes and compare-and-sets of a few registers in the real ``KVStore``: ``Range`` (a
    linearizable read, via ReadIndex), ``Put``, and a ``Txn`` that puts only if the value is still the
    expected one (or the key is absent). Every written value is unique, which sharpens the checker.

    The clients contend on three keys at a time, and move on to three fresh keys every ``ops_per_keys``
    operations (as Jepsen's independent keys do), or sooner once ``unknown_per_keys`` writes on them ended
    with an unknown outcome: the checker's search grows exponentially with the indeterminate operations of
    one key, and a bounded history per key keeps every verdict decidable."""

    name = "kv"
    watch_range: tuple[bytes, bytes] | None = (b"\0", b"\0")  # every key
    keys = ("a", "b", "c")
    ops_per_keys = 150
    unknown_per_keys = 4

    def __init__(self) -> None:
        self.next_value: dict[int, int] = {}
        self.recent: dict[str, list[int | None]] = {}  # key -> the last few values known written
        self.generation = 0  # the clients use keys a<generation>, b<generation>, c<generation>
        self.invoked = 0  # ops invoked on this generation's keys
        self.unknown = 0  # writes on them whose outcome is unknown

    def _next_generation(self) -> None:
        self.generation += 1
        self.invoked = self.unknown = 0

    def invoke(self, rng: random.Random, client: int) -> tuple[str, str, Any]:
        if self.invoked >= self.ops_per_keys:
            self._next_generation()
        key = f"{rng.choice(self.keys)}{self.generation}"
        self.invoked += 1
        r = rng.random()
        if r < 0.4:
            return "read", key, None
        value = self.next_value.get(client, client * 1_000_000) + 1
        self.next_value[client] = value
        if r < 0.8:
            return "write", key, value
        expected = rng.choice(self.recent.get(key) or [None])
        return "cas", key, (expected, value)

    def is_write(self, op: Op) -> bool:
        return op.f != "read"

    def command(self, op: Op) -> Any:
        key = _key(op).encode()
        if op.f == "read":
            return Range(key)
        if op.f == "write":
            return Put(key, str(op.value).encode())
        expected, new = op.value
        if expected is None:
            cond = Compare(key, "version", "==", 0)
        else:
            cond = Compare(key, "value", "==", str(expected).encode())
        return Txn([cond], [Put(key, str(new).encode())], [])

    def output(self, op: Op, reply: Reply) -> Any:
        if op.f == "read" and isinstance(reply, RangeResult):
            return int(reply.kvs[0].value) if reply.kvs else None
        if op.f == "write" and isinstance(reply, PutResult):
            self._written(_key(op), op.value)
            return None
        if op.f == "cas" and isinstance(reply, TxnResult):
            if reply.succeeded:
                self._written(_key(op), op.value[1])
            return reply.succeeded
        raise UnexpectedReply(f"{op.f} {op.key!r} answered with {reply!r}")

    def indeterminate(self, op: Op) -> None:
        if op.f != "read" and _key(op)[1:] == str(self.generation):
            self.unknown += 1
            if self.unknown >= self.unknown_per_keys:
                self._next_generation()

    def _written(self, key: str, value: int) -> None:
        vals = self.recent.setdefault(key, [])
        vals.append(value)
        del vals[:-3]

    def check(self, ops: list[Op], max_steps: int) -> str | None:
        # A read that did not complete observed nothing: leave it out.
        ops = [o for o in ops if not (o.f == "read" and o.status != "ok")]
        res = check(ops, max_steps=max_steps)
        if res.valid is True:
            return None
        if res.valid is False:
            return "history is not linearizable: " + describe(res, ops)
        return (
            f"linearizability unknown: the checker's search budget ({max_steps} steps) ran out on keys "
            f"{', '.join(res.unknown_keys)}; an undecided history is not a pass (shorten the run or raise the budget)"
        )


class CounterWorkload:
    """Adds of small positive deltas to a few counters of the real ``CounterMachine`` (``CounterAdd``, which
    returns the new value), and linearizable reads of them (``CounterGet``, via ReadIndex or a lease);
    checked by Jepsen's counter checker (``tandemdb.checker.counter``): every value read or returned lies
    between what the acknowledged adds guarantee and what all attempted adds allow. An add applied twice (a
    retry not answered from its session) shows as a value above the upper bound."""

    name = "counter"
    watch_range: tuple[bytes, bytes] | None = None
    counters = ("x", "y", "z")

    def invoke(self, rng: random.Random, client: int) -> tuple[str, str, Any]:
        name = rng.choice(self.counters)
        if rng.random() < 0.4:
            return "read", name, None
        return "add", name, rng.randint(1, 5)

    def is_write(self, op: Op) -> bool:
        return op.f == "add"

    def command(self, op: Op) -> Any:
        name = _key(op).encode()
        return CounterAdd(name, op.value) if op.f == "add" else CounterGet(name)

    def output(self, op: Op, reply: Reply) -> Any:
        if isinstance(reply, CounterResult) and not reply.error and reply.name == _key(op).encode():
            return reply.value
        raise UnexpectedReply(f"{op.f} {op.key!r} answered with {reply!r}")

    def indeterminate(self, op: Op) -> None:
        pass

    def check(self, ops: list[Op], max_steps: int) -> str | None:
        res = counter_checker.check(ops)
        return None if res.valid else "counter out of bounds: " + res.describe()


def _key(op: Op) -> str:
    if op.key is None:
        raise ValueError(f"op {op.id} ({op.f}) has no key: every operation of this workload names one")
    return op.key


WORKLOADS: dict[str, Callable[[], Workload]] = {"kv": KVWorkload, "counter": CounterWorkload}
