"""What every nemesis shares: the ``Fault`` it leaves in the run's record, and the ``Context`` it acts in.

A nemesis family (kill, partition, ...) has variants (one node, the leader, a majority ring, ...). ``begin``
picks a variant with the run's seeded generator and injects it, returning the ``Fault`` (None if it could not
apply one now, e.g. no leader to isolate); ``heal`` undoes it. Both block; they run on the nemesis thread.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ...client import Client
from ..cluster import ChaosCluster

T = TypeVar("T")


@dataclass
class Fault:
    nemesis: str  # the family
    kind: str  # the variant
    targets: list[int]
    start: float  # seconds since the run began
    end: float | None = None
    detail: str = ""
    state: dict = field(default_factory=dict)  # what heal needs; not reported


class Context:
    def __init__(self, cluster: ChaosCluster, rng: random.Random, clock: Callable[[], float], size: int) -> None:
        self.cluster = cluster
        self.rng = rng
        self.clock = clock
        self.size = size  # the number of voters the cluster should have when healthy

    def members(self) -> list[int]:
        return sorted(self.cluster.nodes)

    def pick(self, count: int, among: list[int] | None = None) -> list[int]:
        pool = sorted(self.members() if among is None else among)
        return sorted(self.rng.sample(pool, min(count, len(pool))))

    def admin(self) -> Client:
        """A client for membership and leadership operations (close it)."""
        return Client([s.client for s in self.cluster.nodes.values()], timeout=10.0)

    def fault(self, nemesis: str, kind: str, targets: list[int], detail: str = "", **state: Any) -> Fault:
        return Fault(nemesis, kind, sorted(targets), self.clock(), detail=detail, state=state)


class Nemesis:
    name = ""
    exclusive = False  # runs only while no other fault is active

    def begin(self, ctx: Context) -> Fault | None:
        raise NotImplementedError

    def heal(self, ctx: Context, fault: Fault) -> None:
        raise NotImplementedError


def minority(n: int) -> int:
    return (n - 1) // 2


def majority(n: int) -> int:
    return n // 2 + 1


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
