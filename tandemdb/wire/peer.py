"""The peer protocol between nodes: a hello, then batches of Raft messages tagged with their group.

A connection is one-way: the dialing node sends, the accepting node receives. The acceptor checks the hello
(magic, version, cluster id) and closes the connection on a mismatch, so a node of another cluster or a
client on the wrong port cannot inject messages.
"""

from __future__ import annotations

import msgspec

from ..raft.types import Message

PEER_MAGIC = b"TNDMPEER"
PEER_VERSION = 1


class PeerHello(msgspec.Struct, array_like=True):
    magic: bytes
    version: int
    cluster_id: int
    node_id: int  # the sender
    to: int  # the node the sender means to reach


class GroupMessage(msgspec.Struct, array_like=True, gc=False, omit_defaults=True):
    group: int
    msg: Message
    # Tracing only: (entry index, W3C traceparent) of the traced client requests an append carries.
    traces: list[tuple[int, str]] | None = None
    # A leader's last heartbeat before its group goes quiet: the receiver stops ticking the group too.
    quiesce: bool = False


class PeerBatch(msgspec.Struct, array_like=True, gc=False, omit_defaults=True):
    """Everything one node sends another in one loop turn."""

    msgs: list[GroupMessage]
    # Round-trip probes: a node echoes each ping (the sender's monotonic ns) back as a pong on its own link.
    pings: list[int] | None = None
    pongs: list[int] | None = None


encode_peer = msgspec.msgpack.Encoder().encode
decode_hello = msgspec.msgpack.Decoder(PeerHello).decode
decode_batch = msgspec.msgpack.Decoder(PeerBatch).decode
