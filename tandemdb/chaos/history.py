"""The history of a chaos run: every client operation with its invocation, its outcome and their times.

Jepsen's convention: an op is invoked, then resolves as ``ok`` (it took effect and returned ``output``),
``fail`` (it certainly did not take effect) or ``info`` (unknown: it may take effect at any time after
``invoke``, or never). Times are seconds since the run began, on the controller's monotonic clock.
``complete`` is when the client got its answer or gave up, also for ``info`` ops (for plots; the checkers
treat an ``info`` op as never completing). ``f`` names the operation; ``value`` and ``output`` are
workload-specific JSON values (see each workload). After an ``info`` op its process is retired and the
worker continues as a new process, as a client that crashed mid-request would.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    """Builds a history while a run goes on. Not thread-safe: the workload's event loop owns it."""

    def __init__(self, clock) -> None:
        self.clock = clock  # seconds since the run began
        self.ops: list[Op] = []
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

    def fail(self, op: Op, error: str) -> None:
        self._resolve(op, "fail")
        op.error = error

    def info(self, op: Op, error: str) -> None:
        self._resolve(op, "info")
        op.error = error

    def close(self) -> None:
        """Ops still open when the run ended are ``info``."""
        for op_id in sorted(self._open):
            self.info(self.ops[op_id], "the run ended first")

    def _resolve(self, op: Op, status: str) -> None:
        self._open.remove(op.id)
        op.status, op.complete = status, self.clock()
        self.counts[status] += 1


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Op)


def to_jsonl(ops: Iterable[Op]) -> bytes:
    return _encoder.encode_lines(list(ops))


def from_jsonl(data: bytes | str) -> list[Op]:
    return _decoder.decode_lines(data)
