"""The native client port: pipelined ``Request`` frames in, ``Response`` frames out, on one TCP connection.

The first frame must be a ``ClientHello``; a client speaking another protocol (HTTP, a peer, garbage) gets an
error frame and a closed connection. A request that does not decode gets a ``BAD_REQUEST`` reply and the
connection stays open: framing is intact, so the next request can still be read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

import msgspec

from ..wire.client_api import (
    CLIENT_MAGIC,
    CLIENT_VERSION,
    ClientHello,
    Error,
    ErrorKind,
    Request,
    Response,
    decode_hello,
    decode_request,
    encode,
)
from ..wire.frames import FrameDecoder, FrameError, encode_frame

_log = logging.getLogger("tandemdb.server.clients")

MAX_CLIENT_FRAME = 8 << 20  # a request holds at most a few values of up to 1 MiB


class ClientConnection(asyncio.Protocol):
    def __init__(self, listener: ClientListener) -> None:
        self.listener = listener
        self.conn_id = 0
        self.decoder = FrameDecoder(MAX_CLIENT_FRAME)
        self.greeted = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP connection's; uvloop's transports do not subclass asyncio.Transport, so isinstance cannot tell.
        self.transport = cast(asyncio.Transport, transport)
        self.conn_id = self.listener.register(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.unregister(self.conn_id)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.decoder.feed(data)
        except FrameError as e:
            self.fail(f"not a Tandem client frame ({e}); is this the right port? HTTP clients use the HTTP port")
            return
        for frame in frames:
            if not self.greeted:
                if not self._hello(frame):
                    return
                continue
            try:
                req: Request = decode_request(frame)
            except (msgspec.DecodeError, msgspec.ValidationError) as e:
                self.write([Response(_request_id(frame), Error(ErrorKind.BAD_REQUEST, f"malformed request: {e}"))])
                continue
            self.listener.on_request(self.conn_id, req)

    def _hello(self, frame: bytes) -> bool:
        try:
            hello = decode_hello(frame)
        except (msgspec.DecodeError, msgspec.ValidationError):
            hello = None
        if hello is None or hello.magic != CLIENT_MAGIC:
            self.fail("not a Tandem client: the connection must start with a client hello")
            return False
        if hello.version != CLIENT_VERSION:
            self.fail(f"client protocol version {hello.version} is not supported; this node speaks {CLIENT_VERSION}")
            return False
        self.greeted = True
        self.write_raw(encode_frame(encode(ClientHello(CLIENT_MAGIC, CLIENT_VERSION, self.listener.node_id))))
        return True

    def fail(self, message: str) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.write([Response(0, Error(ErrorKind.BAD_REQUEST, message))])
            self.transport.close()

    def write(self, responses: list[Response]) -> None:
        self.write_raw(b"".join(encode_frame(encode(r)) for r in responses))

    def write_raw(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


def _request_id(frame: bytes) -> int:
    """Best effort: the id of a request that failed to decode, so the client can match the error."""
    try:
        raw = msgspec.msgpack.decode(frame)
        if isinstance(raw, list) and raw and isinstance(raw[0], int):
            return raw[0]
    except msgspec.DecodeError:
        pass
    return 0


class ClientListener:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        node_id: int,
        on_request: Callable[[int, Request], None],
        on_disconnect: Callable[[int], None],
    ) -> None:
        self.loop = loop
        self.node_id = node_id
        self.on_request = on_request
        self.on_disconnect = on_disconnect
        self.conns: dict[int, ClientConnection] = {}
        self._next = 0
        self.server: asyncio.AbstractServer | None = None

    async def listen(self, host: str, port: int) -> None:
        self.server = await self.loop.create_server(lambda: ClientConnection(self), host, port, reuse_address=True)

    def register(self, conn: ClientConnection) -> int:
        self._next += 1
        self.conns[self._next] = conn
        return self._next

    def unregister(self, conn_id: int) -> None:
        if self.conns.pop(conn_id, None) is not None:
            self.on_disconnect(conn_id)

    def deliver(self, replies: dict[int, list[Response]]) -> None:
        for conn_id, responses in replies.items():
            conn = self.conns.get(conn_id)
            if conn is not None:
                conn.write(responses)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for conn in list(self.conns.values()):
            if conn.transport is not None:
                conn.transport.close()
