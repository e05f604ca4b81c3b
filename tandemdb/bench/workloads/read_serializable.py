"""Serializable (possibly stale) gets of keys drawn uniformly, served from the contacted node's own state."""

from __future__ import annotations

import random

from . import KEYS, Kind, Op, Workload, key


class ReadSerializable(Workload):
    name = "read-serializable"
    summary = "serializable get, uniform keys"
    preload = True

    def next_op(self, rng: random.Random) -> Op:
        return Kind.SGET, key(rng.randrange(KEYS))


WORKLOAD = ReadSerializable
