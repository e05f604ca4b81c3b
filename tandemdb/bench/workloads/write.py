"""Puts of fixed-size values to keys drawn uniformly."""

from __future__ import annotations

import random

from . import KEYS, Kind, Op, Workload, key


class Write(Workload):
    name = "write"
    summary = "put, uniform keys"
    default_clients: tuple[int, ...] = (1, 16, 64, 256)

    def next_op(self, rng: random.Random) -> Op:
        return Kind.PUT, key(rng.randrange(KEYS))


WORKLOAD = Write
