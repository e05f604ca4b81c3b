"""What a data group's Raft entries hold: a batch of commands, each either a KV command or a node-level one.

One entry carries every write a leader collected in one loop turn (up to ``max_batch_commands``).
"""

from __future__ import annotations

import msgspec

from ..kv.commands import Compact, DeleteRange, LeaseGrant, LeaseRevoke, Put, SessionSweep, Txn
from ..wire.client_api import Member


class PublishMember(msgspec.Struct, tag="publish_member", array_like=True):
    """A member announces its current addresses and labels (sent once at start and when they change)."""

    member: Member


WriteCommand = Put | DeleteRange | Txn | LeaseGrant | LeaseRevoke | Compact
GroupCommand = Put | DeleteRange | Txn | LeaseGrant | LeaseRevoke | Compact | SessionSweep | PublishMember


class GroupState(msgspec.Struct, array_like=True):
    """A group's snapshot data: its KV state and its member table."""

    kv: bytes
    members: list[Member]


encode = msgspec.msgpack.Encoder().encode
decode_entry = msgspec.msgpack.Decoder(list[GroupCommand]).decode
decode_state = msgspec.msgpack.Decoder(GroupState).decode
decode_member = msgspec.msgpack.Decoder(Member).decode
