"""Histories of client operations, as every checker reads them, and the recorder that builds them.

Jepsen's convention: an op is invoked, then resolves as ``ok`` (it took effect and returned ``output``),
``fail`` (it certainly did not take effect) or ``info`` (unknown: it may take effect at any time after
``invoke``, or never). ``complete`` is when the client got its answer or gave up, also for ``info`` ops (for
plots; the checkers treat an ``info`` op as never completing). ``f`` names the operation; ``value`` and
``output`` are workload-specific (the register model of ``checker.linearizability`` documents its own). Times
are whatever the recorder's clock gives: seconds of a chaos run, microseconds of a simulation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

STATUSES = ("ok", "fail", "info")


class Op(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: int
    process: int
    f: str
    key: str | None = None
    value: Any = None
    output: Any = None
    status: str = "info"
    invoke: float
    complete: float | None = None
    node: str = ""  # the endpoint that served it, when the workload chose one
    error: str = ""  # why it failed or is unknown

    @property
    def latency(self) -> float | None:
        return None if self.complete is None else self.complete - self.invoke


class Recorder:
    """Builds a history while a workload runs: ``invoke`` an op, then resolve it with ``ok``, ``fail`` or
    ``info``. Not thread-safe: one event loop (or one simulation) owns it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.ops: list[Op] = []  # in invocation order; an op's id is its position
        self._open: set[int] = set()
        self.counts = {s: 0 for s in STATUSES}

    def invoke(self, process: int, f: str, key: str | None = None, value: Any = None, node: str = "") -> Op:
        op = Op(id=len(self.ops), process=process, f=f, key=key, value=value, node=node, invoke=self.clock())
        self.ops.append(op)
        self._open.add(op.id)
        return op

    def ok(self, op: Op, output: Any = None) -> None:
        self._resolve(op, "ok")
        op.output = output

    def fail(self, op: Op, error: str = "") -> None:
        self._resolve(op, "fail")
        op.error = error

    def info(self, op: Op, error: str = "") -> None:
        self._resolve(op, "info")
        op.error = error

    def close(self) -> None:
        """Ops still open are ``info``: the client never learnt whether they took effect."""
        for op_id in sorted(self._open):
            self.info(self.ops[op_id], "the run ended first")

    def _resolve(self, op: Op, status: str) -> None:
        if op.id not in self._open:
            raise ValueError(f"op {op.id} is unknown or already resolved")
        self._open.remove(op.id)
        op.status, op.complete = status, self.clock()
        self.counts[status] += 1


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Op)


def to_jsonl(ops: Iterable[Op]) -> bytes:
    """Encode ops as JSON lines, one op per line."""
    return _encoder.encode_lines(list(ops))


def from_jsonl(data: bytes | str) -> list[Op]:
    """Decode ops written by ``to_jsonl``."""
    return _decoder.decode_lines(data)
