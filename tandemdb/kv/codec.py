"""Batches of KV commands on the wire and in the Raft log: one msgpack array of tagged commands."""

from __future__ import annotations

import msgspec

from .commands import Command

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(list[Command]).decode


def encode_batch(cmds: list[Command]) -> bytes:
    return _encode(cmds)


def decode_batch(data: bytes) -> list[Command]:
    """Raises ``msgspec.DecodeError`` / ``msgspec.ValidationError`` on bytes that are not a command batch."""
    return _decode(data)
