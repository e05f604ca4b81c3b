"""Real servers of one cluster running inside the test's own event loop, on free loopback ports."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from inproc import free_port
from tandemdb.kv import Put
from tandemdb.node import NodeConfig
from tandemdb.server.config import ServerConfig
from tandemdb.server.server import Server
from tandemdb.wire.client_api import Member


def cluster_configs(root: Path, size: int = 3) -> dict[int, ServerConfig]:
    addresses = {i: tuple(f"127.0.0.1:{free_port()}" for _ in range(3)) for i in range(1, size + 1)}
    cluster = {i: peer for i, (peer, _, _) in addresses.items()}
    configs = {}
    for i, (peer, client, http) in addresses.items():
        member = Member(i, peer, client, f"http://{http}", "r1", f"z{i}")
        configs[i] = ServerConfig(
            node=NodeConfig(member=member, tick_ms=20), data_dir=str(root / f"node-{i}"), listen_peer=peer,
            listen_client=client, listen_http=http, initial_cluster=cluster,
            stop_timeout_s=0.5,  # the last ones up cannot hand leadership over: do not wait long
        )
    return configs


@contextlib.asynccontextmanager
async def running_cluster(
    root: Path, size: int = 3, *, prepare: Callable[[Server], None] = lambda s: None
) -> AsyncIterator[dict[int, Server]]:
    """``size`` servers, started and with a leader; ``prepare`` runs on each before it starts."""
    servers: dict[int, Server] = {}
    try:
        for i, cfg in cluster_configs(root, size).items():
            servers[i] = Server(cfg)
            prepare(servers[i])
            await servers[i].start()
        for _ in range(1000):
            if any(s.node.leads_any() for s in servers.values()):
                break
            await asyncio.sleep(0.01)
        yield servers
    finally:
        for server in servers.values():
            await server.stop()


async def settled(servers: dict[int, Server], group: int = 1) -> Server:
    """Write until the leader knows every follower holds its whole log (so every peer link is up); return it."""
    for _ in range(200):
        leader = next((s for s in servers.values() if s.node.groups[group].is_leader), None)
        if leader is not None:
            await leader.gateway.call(Put(b"settle", b""), group=group)
            await asyncio.sleep(0.05)
            raft = leader.node.groups[group].rn.raft
            if all(pr.match == raft.log.last_index() for pr in raft.tracker.progress.values()):
                return leader
        await asyncio.sleep(0.05)
    raise AssertionError("the cluster did not settle")
