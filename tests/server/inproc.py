"""A real single-node server running inside the test's own event loop, on free loopback ports."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

from tandemdb.node import NodeConfig
from tandemdb.server.config import ServerConfig
from tandemdb.server.server import Server
from tandemdb.wire.client_api import Member


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def running_server(data_dir: str, cluster_id: int = 1) -> AsyncIterator[Server]:
    peer, client, http = (f"127.0.0.1:{free_port()}" for _ in range(3))
    member = Member(1, peer, client, f"http://{http}", "r", "z")
    cfg = ServerConfig(
        node=NodeConfig(member=member, cluster_id=cluster_id, tick_ms=20),
        data_dir=data_dir,
        listen_peer=peer,
        listen_client=client,
        listen_http=http,
        initial_cluster={1: peer},
    )
    server = Server(cfg)
    await server.start()
    try:
        for _ in range(500):
            if server.node.leads_any():
                break
            await asyncio.sleep(0.01)
        yield server
    finally:
        await server.stop()
