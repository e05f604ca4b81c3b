"""What the workloads share: clients for the cluster as it is now, the worker loop that records every op, and
the rule that tells ``fail`` (certainly not applied) from ``info`` (unknown).

Writes go through a client of every node, which follows the leader. Reads go to one live node picked at
random for each read, through a client of that node alone, so followers serve reads too (by ReadIndex) and a
node that answers stale reads shows in the history.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

from ...checker.history import Op, Recorder
from ...client import (
    AsyncClient,
    BadRequestError,
    ClusterUnavailableError,
    KVError,
    NotFoundError,
)
from ..cluster import ChaosCluster

OP_TIMEOUT_S = 2.0
_DEFINITE = (KVError, ClusterUnavailableError, BadRequestError, NotFoundError)


class Refused(Exception):
    """The op decided not to run (a transfer without the funds, a transaction whose compare failed)."""


def classify(error: BaseException, *, read: bool) -> str:
    """ "fail" if the op certainly had no effect, else "info"."""
    if read or isinstance(error, (_DEFINITE, Refused)):
        return "fail"
    return "info"


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


class Clients:
    def __init__(self, cluster: ChaosCluster, timeout: float = OP_TIMEOUT_S) -> None:
        self.cluster = cluster
        self.timeout = timeout
        self._any: tuple[tuple[str, ...], AsyncClient] | None = None
        self._node: dict[str, AsyncClient] = {}
        self._retired: list[AsyncClient] = []

    def endpoints(self) -> list[str]:
        return [spec.client for spec in list(self.cluster.nodes.values())]

    def any(self) -> AsyncClient:
        """A client of every current node (made again when the membership changed)."""
        endpoints = tuple(self.endpoints())
        if self._any is None or self._any[0] != endpoints:
            if self._any is not None:
                self._retired.append(self._any[1])
            self._any = (endpoints, AsyncClient(list(endpoints), timeout=self.timeout))
        return self._any[1]

    def pick(self, rng: random.Random) -> str:
        """The endpoint of a random node that runs and is not paused (a client that waited out the timeout
        of every dead node would mostly measure timeouts); partitioned nodes are picked like any other."""
        nodes = self.cluster.nodes
        live = [nodes[i].client for i in self.cluster.up() if i in nodes]
        return rng.choice(live or self.endpoints())

    def at(self, endpoint: str) -> AsyncClient:
        """A client of that node alone."""
        if endpoint not in self._node:
            self._node[endpoint] = AsyncClient([endpoint], timeout=self.timeout)
        return self._node[endpoint]

    async def close(self) -> None:
        clients = self._retired + list(self._node.values()) + ([self._any[1]] if self._any else [])
        for client in clients:
            await client.close()


class Workload:
    """A workload: ``setup`` once, ``concurrency`` copies of ``worker`` until told to stop, then ``final``
    (reads that show the end state; False if the cluster never answered them). ``check`` judges a history."""

    name = ""

    def __init__(self, cluster: ChaosCluster, recorder: Recorder, seed: int) -> None:
        self.clients = Clients(cluster)
        self.recorder = recorder
        self.seed = seed
        self._processes = 0

    def new_process(self) -> int:
        self._processes += 1
        return self._processes - 1

    async def setup(self) -> None:
        pass

    async def worker(self, index: int, stop: asyncio.Event) -> None:
        rng = random.Random(f"{self.seed}/{self.name}/{index}")
        process = self.new_process()
        while not stop.is_set():
            op, read = self.invoke(rng, process)
            try:
                output = await self.run(op, rng)
            except Exception as e:  # noqa: BLE001 - every failure is recorded, none ends the worker
                if classify(e, read=read) == "fail":
                    self.recorder.fail(op, describe(e))
                else:
                    self.recorder.info(op, describe(e))
                    process = self.new_process()  # a crashed client's process never invokes again
            else:
                self.recorder.ok(op, output)

    def invoke(self, rng: random.Random, process: int) -> tuple[Op, bool]:
        """Generate and record the next op; also whether it only reads."""
        raise NotImplementedError

    async def run(self, op: Op, rng: random.Random) -> Any:
        """Carry out ``op``; returns its output or raises."""
        raise NotImplementedError

    async def final(self) -> bool:
        raise NotImplementedError

    @staticmethod
    def check(ops: list[Op], budget_s: float) -> dict:
        """{"valid": True | False | None, ...details} for the history."""
        raise NotImplementedError

    async def final_read(self, op: Op, fetch: Callable[[], Awaitable[Any]]) -> bool:
        """One attempt of a final read: ``op`` is ok with what ``fetch()`` returns, or fails with its error."""
        try:
            output = await fetch()
        except Exception as e:  # noqa: BLE001 - final_reads tries again
            self.recorder.fail(op, f"{type(e).__name__}: {e}")
            return False
        self.recorder.ok(op, output)
        return True

    async def final_reads(self, read: Callable[[], Awaitable[bool]], timeout: float = 60.0) -> bool:
        """Run ``read()`` (which records one op) until one succeeds or ``timeout`` passes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await read():
                return True
            await asyncio.sleep(0.5)
        return False
