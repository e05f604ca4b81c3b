"""Tandem: three ``tandem start`` processes (fsync on: every write is durable before it is acknowledged), driven
by Tandem's own ``AsyncClient``."""

from __future__ import annotations

import time

from ... import __version__
from ...client import AsyncClient
from ...tools.local_cluster import LocalCluster
from . import NODES, System


class TandemClient:
    def __init__(self, endpoints: list[str]) -> None:
        self._client = AsyncClient(endpoints)

    async def put(self, key: bytes, value: bytes) -> None:
        await self._client.put(key, value)

    async def get(self, key: bytes, *, serializable: bool = False) -> None:
        await self._client.get(key, serializable=serializable)

    async def close(self) -> None:
        await self._client.close()


class TandemSystem(System):
    name = "tandem"
    client_name = "tandemdb AsyncClient (Python asyncio)"

    def start(self) -> None:
        # Default timing (100 ms ticks, 10-tick elections) is etcd's default: 100 ms heartbeat, 1 s election.
        self.cluster = LocalCluster.create(self.root, NODES, log_level="warning")
        self.cluster.start_all()
        self.cluster.wait_for_leader()

    def client_spec(self) -> dict:
        leader = self.cluster.wait_for_leader()
        endpoints = self.cluster.endpoints()
        first = self.cluster.nodes[leader].client
        return {"endpoints": [first] + [e for e in endpoints if e != first]}

    def server_pids(self) -> list[int]:
        return [pid for i in self.cluster.nodes if (pid := self.cluster.pid(i)) is not None]

    def kill_leader(self) -> float:
        leader = self.cluster.wait_for_leader()
        killed_at = time.monotonic()
        self.cluster.kill(leader)
        return killed_at

    def stop(self) -> None:
        self.cluster.kill_all()

    def version(self) -> str:
        return __version__

    @staticmethod
    async def connect(spec: dict) -> TandemClient:
        return TandemClient(spec["endpoints"])


SYSTEM = TandemSystem
