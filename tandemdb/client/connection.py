"""One pipelined connection to one node: the hello, then requests matched to their responses by id.

A reader task dispatches each ``Response`` to the future of its request, or to the queue of its stream (a
watch). When the connection breaks, every waiter gets a ``NoAnswer``. Requests sent in one event-loop turn go
out together, in one socket write at the end of the turn.
"""

from __future__ import annotations

import asyncio
import enum
import os
from typing import Final, Literal

import msgspec

from ..wire.client_api import (
    CLIENT_MAGIC,
    CLIENT_VERSION,
    ClientHello,
    Error,
    ErrorKind,
    Op,
    Reply,
    Request,
    Response,
    WatchCancel,
    WatchEvents,
    decode_hello,
    decode_response,
    encode,
)
from ..wire.frames import FrameDecoder, FrameError, encode_frame

_READ_SIZE = 1 << 16


class _Closed(enum.Enum):
    CLOSED = "closed"


CLOSED: Final = _Closed.CLOSED  # put in a stream's queue when it was closed on this side
Closed = Literal[_Closed.CLOSED]


class NoAnswer(Exception):
    """This endpoint gave no answer. ``sent``: the request may have reached the node (its outcome is unknown)."""

    def __init__(self, endpoint: str, reason: str, *, sent: bool) -> None:
        super().__init__(f"{endpoint}: {reason}")
        self.endpoint = endpoint
        self.reason = reason
        self.sent = sent


class HelloRejected(Exception):
    """The node answered the hello with an error, then closed the connection."""

    def __init__(self, error: Error) -> None:
        super().__init__(error.message)
        self.error = error


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """'host:port' or '[v6addr]:port' -> (host, port)."""
    host, sep, port = endpoint.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad endpoint {endpoint!r}: expected host:port")
    return host.removeprefix("[").removesuffix("]"), int(port)


class Stream:
    """The responses to one streaming request (a watch), in order. ``next`` raises ``NoAnswer`` once the
    connection broke and returns ``CLOSED`` once ``close`` was called."""

    def __init__(self, conn: Connection, request_id: int) -> None:
        self.conn = conn
        self.id = request_id
        self.queue: asyncio.Queue[Reply | Closed | NoAnswer] = asyncio.Queue()

    async def next(self) -> Reply | Closed:
        item = await self.queue.get()
        if isinstance(item, NoAnswer):
            raise item
        return item

    async def cancel(self) -> None:
        """Ask the node to end the stream and stop listening to it."""
        self.close()
        if not self.conn.closed:
            await self.conn.send(WatchCancel(self.id))

    def close(self) -> None:
        self.conn.forget_stream(self.id)
        self.queue.put_nowait(CLOSED)


class Connection:
    def __init__(
        self,
        endpoint: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        decoder: FrameDecoder,
        node_id: int,
    ) -> None:
        self.endpoint = endpoint
        self.node_id = node_id
        self._writer = writer
        self._decoder = decoder
        self._pending: dict[int, asyncio.Future] = {}
        self._streams: dict[int, Stream] = {}
        self._next_id = 1  # id 0 is the node's, for errors about the whole connection
        self._closed_reason = ""
        self._outbox: list[bytes] = []  # frames of this loop turn, written by ``_flush``
        self._reader_task = asyncio.create_task(self._read_loop(reader))

    @classmethod
    async def open(cls, endpoint: str, timeout: float) -> Connection:
        """Connect and exchange hellos; raises ``NoAnswer`` or ``HelloRejected``."""
        decoder = FrameDecoder()
        try:
            host, port = parse_endpoint(endpoint)
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port)
                try:
                    hello = await _exchange_hellos(reader, writer, decoder)
                except BaseException:
                    writer.close()
                    raise
        except TimeoutError:
            raise NoAnswer(endpoint, f"no hello within {timeout:g}s", sent=False) from None
        except (FrameError, msgspec.DecodeError) as e:
            raise NoAnswer(endpoint, f"{e} (is this a Tandem client port?)", sent=False) from None
        except (ValueError, OSError) as e:  # ValueError: a bad endpoint from a redirect
            raise NoAnswer(endpoint, _describe(e), sent=False) from None
        return cls(endpoint, reader, writer, decoder, hello.node_id)

    @property
    def closed(self) -> bool:
        return bool(self._closed_reason)

    async def request(
        self, op: Op, *, serializable: bool = False, timeout_ms: int = 0, session: tuple[int, int] = (0, 0)
    ) -> Reply:
        """Send a request and wait for its response (the caller bounds the wait). ``session``: a write's
        ``(client_id, seq)``."""
        request_id = self._take_id()
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            client_id, seq = session
            await self._send(Request(request_id, op, serializable, 0, timeout_ms, client_id=client_id, seq=seq))
            return await future
        finally:
            self._pending.pop(request_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # the connection may have failed it while ``_send`` raised: mark it seen

    async def open_stream(self, op: Op, *, timeout_ms: int = 0) -> Stream:
        stream = Stream(self, self._take_id())
        self._streams[stream.id] = stream
        try:
            await self._send(Request(stream.id, op, False, 0, timeout_ms))
        except BaseException:
            self._streams.pop(stream.id, None)
            raise
        return stream

    async def send(self, op: Op) -> None:
        """Send a request whose response nobody waits for (it is dropped on arrival)."""
        await self._send(Request(self._take_id(), op))

    def forget_stream(self, stream_id: int) -> None:
        self._streams.pop(stream_id, None)

    async def close(self) -> None:
        self._reader_task.cancel()
        self._fail_all("connection closed by the client")
        try:
            await self._writer.wait_closed()
        except OSError:
            pass

    def _take_id(self) -> int:
        request_id = self._next_id
        self._next_id += 1
        return request_id

    async def _send(self, request: Request) -> None:
        if self._closed_reason:
            raise NoAnswer(self.endpoint, self._closed_reason, sent=False)
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outbox.append(encode_frame(encode(request)))
        try:
            await self._writer.drain()
        except OSError as e:
            raise NoAnswer(self.endpoint, _describe(e), sent=True) from None

    def _flush(self) -> None:
        frames, self._outbox = self._outbox, []
        if not self._closed_reason:  # else every waiter has had its NoAnswer
            self._writer.write(b"".join(frames))

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        reason = "connection closed by the node"
        try:
            while data := await reader.read(_READ_SIZE):
                for payload in self._decoder.feed(data):
                    self._dispatch(decode_response(payload))
        except (OSError, FrameError, msgspec.DecodeError) as e:
            reason = _describe(e)
        finally:
            self._fail_all(reason)

    def _dispatch(self, response: Response) -> None:
        reply = response.reply
        future = self._pending.pop(response.id, None)
        if future is not None:
            if not future.done():
                future.set_result(reply)
            return
        stream = self._streams.get(response.id)
        if stream is not None:
            if isinstance(reply, Error) or (isinstance(reply, WatchEvents) and reply.canceled):
                del self._streams[response.id]  # the stream's last response
            stream.queue.put_nowait(reply)
        elif response.id == 0 and isinstance(reply, Error):
            self._closed_reason = f"closed by the node: {reply.message}"

    def _fail_all(self, reason: str) -> None:
        self._closed_reason = self._closed_reason or reason
        for future in self._pending.values():
            if not future.done():
                future.set_exception(NoAnswer(self.endpoint, self._closed_reason, sent=True))
        self._pending.clear()
        for stream in self._streams.values():
            stream.queue.put_nowait(NoAnswer(self.endpoint, self._closed_reason, sent=True))
        self._streams.clear()
        self._writer.close()


async def _exchange_hellos(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, decoder: FrameDecoder
) -> ClientHello:
    writer.write(encode_frame(encode(ClientHello(CLIENT_MAGIC, CLIENT_VERSION))))
    frames: list[bytes] = []
    while not frames:
        data = await reader.read(_READ_SIZE)
        if not data:
            raise ConnectionError("connection closed by the node during the hello")
        frames = decoder.feed(data)
    # Nothing but the hello can precede our first request, so ``frames`` holds just it.
    try:
        hello = decode_hello(frames[0])
    except msgspec.ValidationError:
        reply = decode_response(frames[0]).reply  # a refusal: Response(0, Error)
        error = reply if isinstance(reply, Error) else Error(ErrorKind.INTERNAL, "unexpected answer to the hello")
        raise HelloRejected(error) from None
    if hello.magic != CLIENT_MAGIC:
        raise msgspec.DecodeError("not a Tandem client port (bad hello magic)")
    return hello


def _describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.errno:
        return os.strerror(e.errno).lower()
    return str(e) or type(e).__name__
