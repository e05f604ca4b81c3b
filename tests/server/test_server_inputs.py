"""A real server facing bad input on its ports: it answers with a clear error or closes the connection, and
keeps serving everyone else with nothing lost."""

from __future__ import annotations

import asyncio

from inproc import running_server
from tandemdb.kv import Put, PutResult, Range
from tandemdb.raft.types import Message, MessageType
from tandemdb.server.peer_transport import split_host_port
from tandemdb.wire.client_api import (
    CLIENT_MAGIC,
    CLIENT_VERSION,
    ClientHello,
    Error,
    ErrorKind,
    Request,
    decode_response,
    encode,
)
from tandemdb.wire.frames import FrameDecoder, encode_frame
from tandemdb.wire.peer import PEER_MAGIC, PEER_VERSION, GroupMessage, PeerBatch, PeerHello, encode_peer


async def _connect(address: str):
    host, port = split_host_port(address)
    return await asyncio.open_connection(host, port)


async def _read_frames(reader: asyncio.StreamReader, n: int) -> list[bytes]:
    dec = FrameDecoder()
    frames: list[bytes] = []
    while len(frames) < n:
        data = await asyncio.wait_for(reader.read(65536), 10)
        if not data:
            break
        frames += dec.feed(data)
    return frames


async def _client(address: str):
    reader, writer = await _connect(address)
    writer.write(encode_frame(encode(ClientHello(CLIENT_MAGIC, CLIENT_VERSION))))
    await _read_frames(reader, 1)
    return reader, writer


async def _put_get(address: str, key: bytes, value: bytes) -> bytes:
    reader, writer = await _client(address)
    writer.write(encode_frame(encode(Request(1, Put(key, value)))))
    (put,) = map(decode_response, await _read_frames(reader, 1))
    assert isinstance(put.reply, PutResult)
    writer.write(encode_frame(encode(Request(2, Range(key)))))  # after the put is acknowledged: must see it
    (got,) = map(decode_response, await _read_frames(reader, 1))
    writer.close()
    return got.reply.kvs[0].value


def test_http_spoken_to_the_native_port_is_refused_with_a_reason(tmp_path) -> None:
    async def scenario() -> None:
        async with running_server(str(tmp_path)) as server:
            reader, writer = await _connect(server.cfg.listen_client)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            frames = await _read_frames(reader, 1)
            reply = decode_response(frames[0]).reply
            assert isinstance(reply, Error) and "right port" in reply.message
            assert await reader.read() == b""  # closed
            assert await _put_get(server.cfg.listen_client, b"k", b"v") == b"v"

    asyncio.run(scenario())


def test_a_malformed_request_gets_bad_request_and_the_connection_keeps_working(tmp_path) -> None:
    async def scenario() -> None:
        async with running_server(str(tmp_path)) as server:
            reader, writer = await _client(server.cfg.listen_client)
            writer.write(encode_frame(b"\x93\x07\xa3bad\xc0"))  # id 7, an op that is no op
            writer.write(encode_frame(encode(Request(8, Put(b"k", b"v")))))
            replies = {r.id: r.reply for r in map(decode_response, await _read_frames(reader, 2))}
            assert isinstance(replies[7], Error) and replies[7].kind == ErrorKind.BAD_REQUEST
            assert isinstance(replies[8], PutResult)

    asyncio.run(scenario())


def test_a_client_without_hello_or_with_a_wrong_version_is_refused(tmp_path) -> None:
    async def scenario() -> None:
        async with running_server(str(tmp_path)) as server:
            for first in (encode(Request(1, Put(b"k", b"v"))), encode(ClientHello(CLIENT_MAGIC, 99))):
                reader, writer = await _connect(server.cfg.listen_client)
                writer.write(encode_frame(first))
                (frame,) = await _read_frames(reader, 1)
                assert isinstance(decode_response(frame).reply, Error)
                assert await reader.read() == b""
            assert await _put_get(server.cfg.listen_client, b"k", b"w") == b"w"

    asyncio.run(scenario())


def test_a_peer_of_another_cluster_cannot_inject_messages(tmp_path) -> None:
    async def scenario() -> None:
        async with running_server(str(tmp_path)) as server:
            term = server.node.status().term
            for hello in (
                PeerHello(PEER_MAGIC, PEER_VERSION, 99, 2, 1),  # another cluster
                PeerHello(PEER_MAGIC, PEER_VERSION, 1, 2, 5),  # meant for another node
                PeerHello(b"NOTAPEER", PEER_VERSION, 1, 2, 1),
            ):
                reader, writer = await _connect(server.cfg.listen_peer)
                vote = Message(type=MessageType.VOTE, to=1, frm=2, term=term + 10, log_term=99, index=99)
                batch = PeerBatch([GroupMessage(1, vote)])
                writer.write(encode_frame(encode_peer(hello)) + encode_frame(encode_peer(batch)))
                assert await asyncio.wait_for(reader.read(), 10) == b""  # closed
            status = server.node.status()
            assert status.term == term and status.is_leader
            assert await _put_get(server.cfg.listen_client, b"k", b"x") == b"x"

    asyncio.run(scenario())


def test_an_oversized_frame_closes_only_that_connection(tmp_path) -> None:
    async def scenario() -> None:
        async with running_server(str(tmp_path)) as server:
            reader, writer = await _client(server.cfg.listen_client)
            writer.write((1 << 30).to_bytes(4, "big"))
            (frame,) = await _read_frames(reader, 1)
            assert isinstance(decode_response(frame).reply, Error)
            assert await _put_get(server.cfg.listen_client, b"k", b"y") == b"y"

    asyncio.run(scenario())
