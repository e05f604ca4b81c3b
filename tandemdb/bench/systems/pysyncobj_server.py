"""One PySyncObj node for the benchmarks: a replicated dict with its journal file on, behind a small TCP front end.

    python -m tandemdb.bench.systems.pysyncobj_server --self HOST:PORT --partners HOST:PORT,HOST:PORT \\
        --client HOST:PORT --dir DIR

PySyncObj runs its own thread (autoTick); the front end is a uvloop loop in the main thread, as in Tandem. Frames are
``tandemdb.wire.frames`` (4-byte length, then msgpack). Requests: ``[id, "put", key, value]``, ``[id, "get", key]``
(through the log, so linearizable), ``[id, "sget", key]`` (this node's copy), ``[id, "status"]``. Responses:
``[id, ok, value]``, where value is the error code when not ok. A follower forwards commands to the leader
(PySyncObj does that itself).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
from pathlib import Path
from typing import cast

import msgspec
import uvloop
from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf, replicated

from ...wire.frames import FrameDecoder, FrameError, encode_frame

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


class ReplicatedKV(SyncObj):
    def __init__(self, self_address: str, partners: list[str], data_dir: Path) -> None:
        conf = SyncObjConf(journalFile=str(data_dir / "journal"), fullDumpFile=str(data_dir / "dump"))
        super().__init__(self_address, partners, conf)
        self._data: dict[bytes, bytes] = {}

    @replicated
    def put(self, key: bytes, value: bytes) -> None:
        self._data[key] = value

    @replicated
    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def local_get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def status(self) -> dict:
        leader = self._getLeader()
        return {"self": self.selfNode.id, "leader": leader.id if leader is not None else None}


class FrontEnd:
    """Answers requests; replies computed on PySyncObj's thread reach the loop in batches (one wake-up each)."""

    def __init__(self, kv: ReplicatedKV, loop: asyncio.AbstractEventLoop) -> None:
        self.kv = kv
        self.loop = loop
        self.done: collections.deque = collections.deque()

    def request(self, transport: asyncio.Transport, payload: bytes) -> None:
        rid, op, *args = _decode(payload)
        if op == "sget":
            transport.write(encode_frame(_encode([rid, True, self.kv.local_get(*args)])))
        elif op == "status":
            transport.write(encode_frame(_encode([rid, True, self.kv.status()])))
        else:
            command = self.kv.put if op == "put" else self.kv.get
            command(*args, callback=lambda result, error: self._complete(transport, rid, result, error))

    def _complete(self, transport: asyncio.Transport, rid: int, result: object, error: int) -> None:
        # On PySyncObj's thread. deque.append is atomic; only the append that finds it empty wakes the loop.
        self.done.append((transport, rid, result, error))
        if len(self.done) == 1:
            self.loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        while self.done:
            transport, rid, result, error = self.done.popleft()
            ok = error == FAIL_REASON.SUCCESS
            if not transport.is_closing():
                transport.write(encode_frame(_encode([rid, ok, result if ok else error])))


class Connection(asyncio.Protocol):
    def __init__(self, front: FrontEnd) -> None:
        self.front = front
        self.decoder = FrameDecoder()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A TCP connection's; uvloop's transports do not subclass asyncio.Transport, so isinstance cannot tell.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            for payload in self.decoder.feed(data):
                self.front.request(self.transport, payload)
        except (FrameError, msgspec.DecodeError, ValueError):
            self.transport.close()


async def serve(args: argparse.Namespace) -> None:
    kv = ReplicatedKV(args.self, [p for p in args.partners.split(",") if p], Path(args.dir))
    front = FrontEnd(kv, asyncio.get_running_loop())
    host, _, port = args.client.rpartition(":")
    server = await asyncio.get_running_loop().create_server(lambda: Connection(front), host, int(port))
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--self", required=True, help="this node's PySyncObj address")
    ap.add_argument("--partners", required=True, help="the other nodes' PySyncObj addresses")
    ap.add_argument("--client", required=True, help="address of the front end")
    ap.add_argument("--dir", required=True, help="where the journal and dump files go")
    uvloop.run(serve(ap.parse_args()))


if __name__ == "__main__":
    main()
