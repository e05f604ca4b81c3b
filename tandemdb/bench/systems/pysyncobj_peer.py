"""PySyncObj: three ``pysyncobj_server`` processes (a replicated dict, journal file on: PySyncObj writes each
entry to a memory-mapped journal but never fsyncs it), driven by a small pipelined client of their front end."""

from __future__ import annotations

import asyncio
import socket
import sys
from importlib.metadata import version

import msgspec

from ...tools.local_cluster import free_ports
from ...wire.frames import FrameDecoder, encode_frame
from . import NODES
from .processes import ProcessSystem, ServerProcesses

HOST = "127.0.0.1"
CALL_TIMEOUT_S = 5.0

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


class PeerError(Exception):
    pass


class PySyncObjClient:
    """One connection, to the first endpoint that accepts it; when it breaks, every pending call fails and the
    next call connects to the next endpoint (a follower forwards commands to the leader)."""

    def __init__(self, endpoints: list[str]) -> None:
        self._endpoints = endpoints
        self._index = 0
        self._connecting: asyncio.Task | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._next_id = 1

    async def put(self, key: bytes, value: bytes) -> None:
        await self._call("put", key, value)

    async def get(self, key: bytes, *, serializable: bool = False) -> None:
        await self._call("sget" if serializable else "get", key)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    async def _call(self, *request: object) -> object:
        if self._writer is None or self._writer.is_closing():
            if self._connecting is None or self._connecting.done():
                self._connecting = asyncio.create_task(self._connect())
            await asyncio.shield(self._connecting)
        writer = self._writer
        assert writer is not None  # _connect set it, or raised
        rid = self._next_id
        self._next_id += 1
        future = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            writer.write(encode_frame(_encode([rid, *request])))
            async with asyncio.timeout(CALL_TIMEOUT_S):
                ok, value = await future
        finally:
            self._pending.pop(rid, None)
        if not ok:
            raise PeerError(f"PySyncObj failure reason {value}")
        return value

    async def _connect(self) -> None:
        endpoint = self._endpoints[self._index % len(self._endpoints)]
        host, _, port = endpoint.rpartition(":")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 1.0)
        except (OSError, TimeoutError):
            self._index += 1
            raise
        self._writer = writer
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        asyncio.get_running_loop().create_task(self._read(reader, writer))

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = FrameDecoder()
        try:
            while data := await reader.read(1 << 16):
                for payload in decoder.feed(data):
                    rid, ok, value = _decode(payload)
                    future = self._pending.pop(rid, None)
                    if future is not None and not future.done():
                        future.set_result((ok, value))
        except OSError:
            pass
        writer.close()
        self._index += 1
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("connection to the PySyncObj node lost"))
        self._pending.clear()


class PySyncObjSystem(ProcessSystem):
    name = "pysyncobj"
    client_name = "Python asyncio client of the front end in pysyncobj_server.py"

    def start(self) -> None:
        ports = free_ports(2 * NODES)
        self.peers = {f"n{k}": f"{HOST}:{ports[2 * k]}" for k in range(NODES)}
        self.clients = {f"n{k}": f"{HOST}:{ports[2 * k + 1]}" for k in range(NODES)}
        self.procs = ServerProcesses()
        for name, peer in self.peers.items():
            data_dir = self.root / name
            data_dir.mkdir(parents=True)
            partners = ",".join(p for p in self.peers.values() if p != peer)
            self.procs.spawn(name, [
                sys.executable, "-m", "tandemdb.bench.systems.pysyncobj_server",
                "--self", peer, "--partners", partners, "--client", self.clients[name], "--dir", str(data_dir),
            ], self.root / f"{name}.log")
        self.leader()

    def leader(self) -> str:
        """The name of the node that every answering node names as leader."""
        by_peer = {peer: name for name, peer in self.peers.items()}

        def probe() -> str | None:
            leaders = set()
            for name, endpoint in self.clients.items():
                if self.procs.pid(name) and (status := _status(endpoint)) is not None:
                    leaders.add(status["leader"])
            return by_peer.get(leaders.pop()) if len(leaders) == 1 else None

        return self.procs.wait_for(probe, "PySyncObj leader")

    def version(self) -> str:
        return version("pysyncobj")

    @staticmethod
    async def connect(spec: dict) -> PySyncObjClient:
        return PySyncObjClient(spec["endpoints"])


def _status(endpoint: str) -> dict | None:
    """The node's status from its front end, or None if it does not answer within a second."""
    host, _, port = endpoint.rpartition(":")
    decoder = FrameDecoder()
    try:
        with socket.create_connection((host, int(port)), timeout=1.0) as sock:
            sock.sendall(encode_frame(_encode([0, "status"])))
            frames: list[bytes] = []
            while not frames:
                data = sock.recv(1 << 16)
                if not data:
                    return None
                frames = decoder.feed(data)
    except OSError:
        return None
    _, ok, status = _decode(frames[0])
    return status if ok else None


SYSTEM = PySyncObjSystem
