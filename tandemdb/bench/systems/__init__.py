"""The systems a benchmark compares. Each is one module here defining ``SYSTEM``, a ``System`` subclass that starts
a local 3-node cluster with durable writes and says how a load generator reaches it; add a peer with a module
and a line in ``SYSTEMS``.

A ``System`` lives in the runner (start, pids, leader kill, stop); its ``connect`` runs in the load generator
processes, which know the cluster only from ``client_spec()``, a JSON-able dict.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol

SYSTEMS = {
    "tandem": "tandemdb.bench.systems.tandem",
    "etcd": "tandemdb.bench.systems.etcd",
    "pysyncobj": "tandemdb.bench.systems.pysyncobj_peer",
}

NODES = 3


class BenchClient(Protocol):
    """What a workload may do. Methods raise on any failure; the load generator retries."""

    async def put(self, key: bytes, value: bytes) -> None: ...

    async def get(self, key: bytes, *, serializable: bool = False) -> None: ...

    async def close(self) -> None: ...


class System(ABC):
    name: str
    client_name: str  # which client drives it, for the report
    native_client_name = ""  # the same for the load generator of ``native_loadgen``

    def __init__(self, root: Path) -> None:
        self.root = root  # a fresh directory for this cluster's data and logs

    @abstractmethod
    def start(self) -> None:
        """Start every node and return once a leader serves writes."""

    @abstractmethod
    def client_spec(self) -> dict:
        """What ``connect`` needs; endpoints list the leader first."""

    @abstractmethod
    def server_pids(self) -> list[int]:
        """The running server processes, for CPU accounting."""

    @abstractmethod
    def kill_leader(self) -> float:
        """SIGKILL the leader; returns the ``time.monotonic()`` of the signal."""

    @abstractmethod
    def stop(self) -> None:
        """Stop every node (whatever state it is in)."""

    @abstractmethod
    def version(self) -> str: ...

    def native_loadgen(self) -> list[str] | None:
        """The command of a load generator in the system's own language, speaking the protocol of ``loadgen``
        (replaying a tape of operations), if one can be had here: the runner then prefers it."""
        return None

    @staticmethod
    @abstractmethod
    async def connect(spec: dict) -> BenchClient: ...


def system_class(name: str) -> type[System]:
    if name not in SYSTEMS:
        raise ValueError(f"unknown system {name!r} (known: {', '.join(SYSTEMS)})")
    return importlib.import_module(SYSTEMS[name]).SYSTEM
