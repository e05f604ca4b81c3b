"""The simulator's small replicated key-value state machine: put, compare-and-set, and reads served locally
after a ReadIndex round."""

from __future__ import annotations

import msgspec

_ENC = msgspec.msgpack.Encoder()


class Command(msgspec.Struct, array_like=True, gc=False):
    op_id: int
    kind: str  # "write" | "cas"
    key: str
    value: int
    expected: int | None = None


_CMD = msgspec.msgpack.Decoder(Command)
_STATE = msgspec.msgpack.Decoder(dict[str, int])


def encode_command(cmd: Command) -> bytes:
    return _ENC.encode(cmd)


class KVStateMachine:
    def __init__(self) -> None:
        self.data: dict[str, int] = {}

    def apply(self, payload: bytes) -> tuple[int, bool | None]:
        """Apply one command; returns (op id, result) where result is the cas outcome or None for a write."""
        cmd = _CMD.decode(payload)
        if cmd.kind == "write":
            self.data[cmd.key] = cmd.value
            return cmd.op_id, None
        if self.data.get(cmd.key) == cmd.expected:
            self.data[cmd.key] = cmd.value
            return cmd.op_id, True
        return cmd.op_id, False

    def read(self, key: str) -> int | None:
        return self.data.get(key)

    def snapshot(self) -> bytes:
        return _ENC.encode(dict(sorted(self.data.items())))

    def restore(self, data: bytes) -> None:
        self.data = _STATE.decode(data) if data else {}
