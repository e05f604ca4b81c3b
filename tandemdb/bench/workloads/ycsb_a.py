"""YCSB workload A: 50% linearizable reads, 50% updates, keys drawn from YCSB's scrambled Zipfian (0.99)."""

from __future__ import annotations

import bisect
import itertools
import random

from . import KEYS, Kind, Op, Workload, key

ZIPFIAN_CONSTANT = 0.99


class Zipfian:
    """Item i (0-based) has weight 1/(i+1)^theta; a fixed shuffle spreads the hot items over the key space."""

    def __init__(self, items: int, theta: float = ZIPFIAN_CONSTANT, seed: int = 0) -> None:
        self.cdf = list(itertools.accumulate(1.0 / (i + 1) ** theta for i in range(items)))
        self.order = list(range(items))
        random.Random(seed).shuffle(self.order)

    def sample(self, rng: random.Random) -> int:
        i = bisect.bisect_left(self.cdf, rng.random() * self.cdf[-1])
        return self.order[min(i, len(self.order) - 1)]


class YcsbA(Workload):
    name = "ycsb-a"
    summary = "50/50 linearizable get / put, Zipfian keys"
    preload = True

    def __init__(self, value_size: int) -> None:
        super().__init__(value_size)
        self.keys = Zipfian(KEYS)

    def next_op(self, rng: random.Random) -> Op:
        return Kind.GET if rng.random() < 0.5 else Kind.PUT, key(self.keys.sample(rng))


WORKLOAD = YcsbA
