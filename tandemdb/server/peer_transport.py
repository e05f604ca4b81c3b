"""Peer connections: one outgoing TCP connection per peer, carrying length-prefixed ``PeerBatch`` frames.

Outgoing connections are dialed on demand and redialed with backoff; while a peer is unreachable its
messages are dropped (Raft retransmits) and the node is told, so the leader probes it gently. Incoming
connections must start with a ``PeerHello`` of this cluster addressed to this node; anything else is logged
and the connection closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

import msgspec

from ..wire.frames import FrameDecoder, FrameError, encode_frame
from ..wire.peer import (
    PEER_MAGIC,
    PEER_VERSION,
    GroupMessage,
    PeerBatch,
    PeerHello,
    decode_batch,
    decode_hello,
    encode_peer,
)
from .debug_faults import DebugFaults

_log = logging.getLogger("tandemdb.server.peers")

OnMessages = Callable[[list[GroupMessage]], None]


def split_host_port(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"expected host:port, got {address!r}")
    return host.strip("[]"), int(port)


class _Outgoing(asyncio.Protocol):
    def __init__(self, peer: PeerLink) -> None:
        self.peer = peer
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP connection's; uvloop's transports do not subclass asyncio.Transport, so isinstance cannot tell.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        pass  # peers never answer on this connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.peer.lost(self)


class PeerLink:
    """The connection to one peer, redialed with backoff when it drops."""

    def __init__(self, transport: PeerTransport, peer_id: int) -> None:
        self.t = transport
        self.peer_id = peer_id
        self.proto: _Outgoing | None = None
        self.dialing = False
        self.backoff = 0.05
        self.next_dial = 0.0
        self.sent_bytes = 0

    def send(self, frame: bytes) -> bool:
        proto = self.proto
        if proto is not None and proto.transport is not None and not proto.transport.is_closing():
            proto.transport.write(frame)
            self.sent_bytes += len(frame)
            return True
        self.dial()
        return False

    def dial(self) -> None:
        loop = self.t.loop
        if self.dialing or loop.time() < self.next_dial or self.t.closed:
            return
        address = self.t.address_of(self.peer_id)
        if address is None:
            return
        self.dialing = True
        loop.create_task(self._dial(address))

    async def _dial(self, address: str) -> None:
        try:
            host, port = split_host_port(address)
            _, proto = await asyncio.wait_for(
                self.t.loop.create_connection(lambda: _Outgoing(self), host, port), timeout=1.0
            )
            hello = PeerHello(PEER_MAGIC, PEER_VERSION, self.t.cluster_id, self.t.node_id, self.peer_id)
            assert proto.transport is not None  # connection_made ran before create_connection returned
            proto.transport.write(encode_frame(encode_peer(hello)))
            self.proto = proto
            self.backoff = 0.05
        except (TimeoutError, OSError, ValueError) as e:
            _log.debug("dial node %d at %s failed: %s", self.peer_id, address, e)
            self.next_dial = self.t.loop.time() + self.backoff
            self.backoff = min(self.backoff * 2, 1.0)
        finally:
            self.dialing = False

    def lost(self, proto: _Outgoing) -> None:
        if self.proto is proto:
            self.proto = None
            self.t.on_unreachable(self.peer_id)

    def close(self) -> None:
        if self.proto is not None and self.proto.transport is not None:
            self.proto.transport.close()
        self.proto = None


class _Incoming(asyncio.Protocol):
    def __init__(self, t: PeerTransport) -> None:
        self.t = t
        self.decoder = FrameDecoder()
        self.peer_id = 0
        self.transport: asyncio.Transport | None = None
        self.received_bytes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP connection's; uvloop's transports do not subclass asyncio.Transport, so isinstance cannot tell.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.received_bytes += len(data)
        if self.peer_id:
            self.t.received_bytes[self.peer_id] = self.t.received_bytes.get(self.peer_id, 0) + len(data)
        try:
            frames = self.decoder.feed(data)
            for frame in frames:
                if not self.peer_id:
                    self._hello(frame)
                    continue
                batch = decode_batch(frame)
                if (batch.pings or batch.pongs) and self.t.on_probe is not None:
                    self.t.on_probe(self.peer_id, batch)
                msgs = [gm for gm in batch.msgs if gm.msg.frm == self.peer_id]
                if msgs and not (self.t.faults is not None and self.t.faults.blocks(self.peer_id)):
                    self.t.on_messages(msgs)
        except (FrameError, msgspec.DecodeError, msgspec.ValidationError, _Refused) as e:
            peer = self.transport.get_extra_info("peername") if self.transport else None
            _log.warning("closing peer connection from %s: %s", peer, e)
            if self.transport is not None:
                self.transport.close()

    def _hello(self, frame: bytes) -> None:
        hello = decode_hello(frame)
        t = self.t
        if hello.magic != PEER_MAGIC:
            raise _Refused("not a Tandem peer (bad magic)")
        if hello.version != PEER_VERSION:
            raise _Refused(f"peer protocol version {hello.version}, this node speaks {PEER_VERSION}")
        if hello.cluster_id != t.cluster_id:
            raise _Refused(f"node {hello.node_id} belongs to cluster {hello.cluster_id}, not {t.cluster_id}")
        if hello.to != t.node_id:
            raise _Refused(f"node {hello.node_id} meant to reach node {hello.to}, this is node {t.node_id}")
        if hello.node_id <= 0:
            raise _Refused("a peer needs a positive node id")
        self.peer_id = hello.node_id


class _Refused(Exception):
    pass


class PeerTransport:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        cluster_id: int,
        node_id: int,
        address_of: Callable[[int], str | None],
        on_messages: OnMessages,
        on_unreachable: Callable[[int], None],
        faults: DebugFaults | None = None,
    ) -> None:
        self.loop = loop
        self.faults = faults  # debug only: the chaos harness's partitions, delays and losses
        self.cluster_id = cluster_id
        self.node_id = node_id
        self.address_of = address_of
        self.on_messages = on_messages
        self.on_unreachable = on_unreachable
        self.links: dict[int, PeerLink] = {}
        self.server: asyncio.AbstractServer | None = None
        self.closed = False
        self.received_bytes: dict[int, int] = {}  # peer -> bytes received from it (metrics)
        self.on_probe: Callable[[int, PeerBatch], None] | None = None  # a peer's pings and pongs (``peer_probe.py``)

    async def listen(self, address: str) -> None:
        host, port = split_host_port(address)
        self.server = await self.loop.create_server(lambda: _Incoming(self), host, port, reuse_address=True)

    def send(self, to: int, msgs: list[GroupMessage], *, pings: list[int] | None = None,
             pongs: list[int] | None = None) -> None:
        """Send one turn's messages for ``to`` in one frame (with round-trip probes, if any)."""
        frame = encode_frame(encode_peer(PeerBatch(msgs, pings, pongs)))
        if self.faults is not None:
            self.faults.route(to, frame, self._send_frame)
        else:
            self._send_frame(to, frame)

    def _send_frame(self, to: int, frame: bytes) -> None:
        link = self.links.get(to)
        if link is None:
            link = self.links[to] = PeerLink(self, to)
        if not link.send(frame):
            self.on_unreachable(to)

    async def close(self) -> None:
        self.closed = True
        for link in self.links.values():
            link.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
