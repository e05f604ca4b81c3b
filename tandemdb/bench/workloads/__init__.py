"""Workloads: what each client of the load generator does, one operation after another. Each is one module here
defining ``WORKLOAD``; add one with a module and a line in ``WORKLOADS``.

``next_op`` draws the next operation, an (``Kind``, key) pair: the Python load generator calls it as it goes, and
for a generator in another language the runner records a tape of them to replay. ``summarize`` runs in the
runner, on the merged latencies.
"""

from __future__ import annotations

import importlib
import random
from enum import StrEnum

from ..stats import Latencies

WORKLOADS = {
    "write": "tandemdb.bench.workloads.write",
    "read": "tandemdb.bench.workloads.read",
    "read-serializable": "tandemdb.bench.workloads.read_serializable",
    "ycsb-a": "tandemdb.bench.workloads.ycsb_a",
    "failover": "tandemdb.bench.workloads.failover",
}

KEYS = 1000  # the key space (YCSB's default record count); reading workloads find every key loaded



class Kind(StrEnum):
    PUT = "put"  # of the workload's value
    GET = "get"  # linearizable
    SGET = "sget"  # serializable


Op = tuple[Kind, bytes]


def key(index: int) -> bytes:
    return b"key%06d" % index


class Workload:
    name: str
    summary: str
    default_clients: tuple[int, ...] = (64,)  # concurrencies run when the command names none
    preload = False  # load every key before the run
    kill_leader_at: float | None = None  # fraction of the measured window at which the leader is SIGKILLed

    def __init__(self, value_size: int) -> None:
        self.value = b"v" * value_size  # what every PUT writes

    def next_op(self, rng: random.Random) -> Op:
        raise NotImplementedError

    def summarize(self, latencies: Latencies, killed_at: float | None) -> dict:
        """Latency figures of the run, in milliseconds."""
        return latencies.percentiles_ms()


def workload_class(name: str) -> type[Workload]:
    if name not in WORKLOADS:
        raise ValueError(f"unknown workload {name!r} (known: {', '.join(WORKLOADS)})")
    return importlib.import_module(WORKLOADS[name]).WORKLOAD
