"""A tiny second state machine: named integer counters. It proves that the group driver knows nothing of KV
(the simulator and tests replicate it with the same node core), and its workload makes a write applied twice
visible: a counter read above the sum of every increment ever attempted.

Commands: ``CounterAdd(name, delta)`` returns the new value; ``CounterGet(name)`` reads it (0 if never added).
Pure and deterministic, like every state machine.
"""

from __future__ import annotations

import msgspec

from ..state_machine import MachineStats, OpKinds

MAX_NAME_BYTES = 256


class CounterAdd(msgspec.Struct, tag="counter_add", array_like=True, gc=False):
    name: bytes
    delta: int


class CounterGet(msgspec.Struct, tag="counter_get", array_like=True, gc=False):
    name: bytes


class CounterResult(msgspec.Struct, tag="counter", array_like=True, gc=False):
    name: bytes
    value: int
    error: str = ""  # set when the command was refused (and changed nothing)


# ``CounterMachine.ops``, and the kinds of these operations in the client protocol's registry (``tandemdb.wire.ops``).
COUNTER_OPS = OpKinds(writes=(CounterAdd,), reads=(CounterGet,), leader=())

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(dict[bytes, int]).decode


class CounterMachine:
    ops = COUNTER_OPS
    command_type = CounterAdd
    result_type = CounterResult

    def __init__(self) -> None:
        self.values: dict[bytes, int] = {}
        self.revision = 0  # commands applied

    def validate(self, cmd: CounterAdd) -> CounterResult | None:
        if not 0 < len(cmd.name) <= MAX_NAME_BYTES:
            return CounterResult(cmd.name, 0, f"a counter name has 1 to {MAX_NAME_BYTES} bytes")
        return None

    def apply(self, cmds: list[CounterAdd]) -> tuple[list[CounterResult], list]:
        out = []
        for cmd in cmds:
            refused = self.validate(cmd)
            if refused is not None:
                out.append(refused)
                continue
            value = self.values.get(cmd.name, 0) + cmd.delta
            self.values[cmd.name] = value
            self.revision += 1
            out.append(CounterResult(cmd.name, value))
        return out, []

    def read(self, op: CounterGet) -> CounterResult:
        return CounterResult(op.name, self.values.get(op.name, 0))

    def snapshot(self) -> bytes:
        return _encode([self.revision, _encode(dict(sorted(self.values.items())))])

    def restore(self, data: bytes) -> None:
        if not data:
            self.values, self.revision = {}, 0
            return
        revision, values = msgspec.msgpack.decode(data, type=tuple[int, bytes])
        self.values, self.revision = _decode(values), revision

    def stats(self) -> MachineStats:
        return MachineStats(self.revision, len(self.values), sum(len(k) + 8 for k in self.values))

    # No leader duties: counters have no timers.
    def lead(self, now: int) -> None:
        pass

    def unlead(self) -> None:
        pass

    def leader_applied(self, cmds: list, results: list, now: int) -> None:
        pass

    def leader_timers(self) -> bool:
        return False

    def leader_tick(self, now: int) -> list:
        return []

    def leader_serve(self, op: object, now: int) -> CounterResult:
        raise TypeError(f"the counter machine serves no leader-only operation ({type(op).__name__})")
