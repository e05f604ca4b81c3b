"""History records of client operations on a key-value register, and a recorder that builds them.

A history follows Jepsen's convention: every operation is invoked, then resolves as ``ok`` (it took effect
and returned ``output``), ``fail`` (it definitely did not take effect) or ``info`` (indeterminate: it may
have taken effect at any moment after ``invoke``, or never, so ``complete`` stays ``None``).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

Value = str | int | None

KINDS = ("read", "write", "cas")
STATUSES = ("ok", "fail", "info")


class Op(msgspec.Struct, kw_only=True):
    """One client operation on one key.

    ``value``: the value written (write), ``[expected, new]`` (cas), None (read).
    ``output``: the value read, None when absent (read); True or False (ok cas); None (write).
    A cas that returns False observed a value other than ``expected`` and wrote nothing.
    """

    id: int
    process: int
    kind: str
    key: str
    value: str | int | tuple[Value, Value] | None = None
    output: str | int | bool | None = None
    status: str
    invoke: float
    complete: float | None = None


class HistoryRecorder:
    """Builds a history while a workload runs: ``invoke`` an op, then resolve it with ``ok``, ``fail`` or ``info``.

    Ops never resolved are reported as ``info``: the client does not know whether they took effect.
    """

    def __init__(self) -> None:
        self._ops: list[Op] = []
        self._open: set[int] = set()

    def invoke(self, process: int, kind: str, key: str, value: object, time: float) -> int:
        op_id = len(self._ops)
        self._ops.append(Op(id=op_id, process=process, kind=kind, key=key, value=value, status="info", invoke=time))
        self._open.add(op_id)
        return op_id

    def ok(self, op_id: int, output: object, time: float) -> None:
        op = self._resolve(op_id)
        op.status, op.output, op.complete = "ok", output, time

    def fail(self, op_id: int, time: float) -> None:
        op = self._resolve(op_id)
        op.status, op.complete = "fail", time

    def info(self, op_id: int) -> None:
        self._resolve(op_id)

    def ops(self) -> list[Op]:
        """Copies of every op recorded so far, in invocation order."""
        return [msgspec.structs.replace(op) for op in self._ops]

    def to_jsonl(self) -> bytes:
        return to_jsonl(self._ops)

    def _resolve(self, op_id: int) -> Op:
        if op_id not in self._open:
            raise ValueError(f"op {op_id} is unknown or already resolved")
        self._open.remove(op_id)
        return self._ops[op_id]


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Op)


def to_jsonl(ops: Iterable[Op]) -> bytes:
    """Encode ops as JSON lines, one op per line."""
    return _encoder.encode_lines(list(ops))


def from_jsonl(data: bytes | str) -> list[Op]:
    """Decode ops written by ``to_jsonl``."""
    return _decoder.decode_lines(data)
