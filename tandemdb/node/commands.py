"""What a group's Raft entries hold: a batch of proposals, each a state machine command or one of the driver's
own, with the client session it belongs to.

One entry carries every write a leader collected in one loop turn (up to ``max_batch_commands``). The session
``(client_id, seq)`` travels beside the command, not inside it: sessions are the driver's, for every machine.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

from ..wire.client_api import Member

C = TypeVar("C")


class Proposal(msgspec.Struct, Generic[C], array_like=True, gc=False, omit_defaults=True):
    cmd: C
    client_id: int = 0  # 0: no session (the driver's own commands, lease revokes, ...)
    seq: int = 0


class PublishMember(msgspec.Struct, tag="publish_member", array_like=True):
    """A member announces its current addresses and labels (sent once at start and when they change)."""

    member: Member


class SessionSweep(msgspec.Struct, tag="session_sweep", array_like=True, gc=False):
    """Start a new session epoch and forget the sessions of clients idle for a while (``node.sessions``)."""


DriverCommand = PublishMember | SessionSweep


class GroupState(msgspec.Struct, array_like=True):
    """A group's snapshot data: its state machine's state, its member table and its client sessions."""

    machine: bytes
    members: list[Member]
    sessions: bytes = b""


class EntryCodec:
    """Encodes and decodes a group's entries for one kind of state machine."""

    def __init__(self, command_type: Any) -> None:
        self.decode = msgspec.msgpack.Decoder(list[Proposal[command_type | DriverCommand]]).decode


encode = msgspec.msgpack.Encoder().encode
decode_state = msgspec.msgpack.Decoder(GroupState).decode
decode_member = msgspec.msgpack.Decoder(Member).decode
