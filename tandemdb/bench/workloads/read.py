"""Linearizable gets of keys drawn uniformly (each system's default read)."""

from __future__ import annotations

import random

from . import KEYS, Kind, Op, Workload, key


class Read(Workload):
    name = "read"
    summary = "linearizable get, uniform keys"
    preload = True

    def next_op(self, rng: random.Random) -> Op:
        return Kind.GET, key(rng.randrange(KEYS))


WORKLOAD = Read
