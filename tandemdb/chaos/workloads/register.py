"""The register workload: reads, writes and compare-and-sets on a few keys at a time, checked for
linearizability key by key.

Values written are unique integers, which keeps the search small. A cas expects the value its worker last
saw on the key and is a ``Txn`` comparing the value (or, for an absent key, version 0). Each key takes at most
``OPS_PER_KEY`` ops, then a fresh key replaces it (Jepsen's "independent" keys): the checker's work grows with
the ops concurrent on one key, not with the length of the run.

Ops: ``read`` (output: the value or None), ``write`` (value: the value), ``cas`` (value: [expected, new];
output: whether it swapped).
"""

from __future__ import annotations

import random
import time
from typing import Any

import msgspec

from ...checker.history import Op, Recorder
from ...checker.linearizability import CheckResult, check, describe
from ...kv.commands import VALUE, VERSION, Compare, Put
from ..cluster import ChaosCluster
from .base import Workload

ACTIVE_KEYS = 3
OPS_PER_KEY = 200
PREFIX = "chaos/register/"


class Register(Workload):
    name = "register"

    def __init__(self, cluster: ChaosCluster, recorder: Recorder, seed: int) -> None:
        super().__init__(cluster, recorder, seed)
        self.keys_made = 0
        self.active = [self._new_key() for _ in range(ACTIVE_KEYS)]
        self.ops_on = {k: 0 for k in self.active}
        self.next_value = 0
        self.last_seen: dict[tuple[int, str], Any] = {}  # (process, key) -> value it last saw

    def _new_key(self) -> str:
        self.keys_made += 1
        return f"{PREFIX}{self.keys_made:05d}"

    def _take_key(self, rng: random.Random) -> str:
        slot = rng.randrange(len(self.active))
        key = self.active[slot]
        self.ops_on[key] += 1
        if self.ops_on[key] >= OPS_PER_KEY:
            self.active[slot] = self._new_key()
            self.ops_on[self.active[slot]] = 0
        return key

    def invoke(self, rng: random.Random, process: int) -> tuple[Op, bool]:
        key = self._take_key(rng)
        r = rng.random()
        if r < 0.5:
            return self.recorder.invoke(process, "read", key, node=self.clients.pick(rng)), True
        self.next_value += 1
        if r < 0.8:
            return self.recorder.invoke(process, "write", key, self.next_value), False
        expected = self.last_seen.get((process, key))
        return self.recorder.invoke(process, "cas", key, [expected, self.next_value]), False

    async def run(self, op: Op, rng: random.Random) -> Any:
        key = op.key
        assert key is not None  # invoke gives every op a key
        if op.f == "read":
            kvs = (await self.clients.at(op.node).get(key)).kvs
            value = int(kvs[0].value) if kvs else None
            self.last_seen[(op.process, key)] = value
            return value
        client = self.clients.any()
        if op.f == "write":
            await client.put(key, str(op.value))
            self.last_seen[(op.process, key)] = op.value
            return None
        expected, new = op.value
        compare = (
            Compare(key.encode(), VERSION, "==", 0)
            if expected is None
            else Compare(key.encode(), VALUE, "==", str(expected).encode())
        )
        result = await client.txn([compare], [Put(key.encode(), str(new).encode())], [])
        if result.succeeded:
            self.last_seen[(op.process, key)] = new
        return result.succeeded

    async def final(self) -> bool:
        """Read every key once more through the leader: a lost write shows here last of all."""
        keys = [f"{PREFIX}{i:05d}" for i in range(1, self.keys_made + 1)]
        process = self.new_process()
        remaining = list(keys)

        async def read_all() -> bool:
            client = self.clients.any()

            async def fetch() -> int | None:
                kvs = (await client.get(remaining[0])).kvs
                return int(kvs[0].value) if kvs else None

            while remaining:
                op = self.recorder.invoke(process, "read", remaining[0], node="final")
                if not await self.final_read(op, fetch):
                    return False
                remaining.pop(0)
            return True

        return await self.final_reads(read_all)

    @staticmethod
    def check(ops: list[Op], budget_s: float) -> dict:
        return check_history(ops, budget_s)


def check_history(ops: list[Op], budget_s: float) -> dict:
    """Linearizability of every key's register, within ``budget_s`` seconds of search."""
    result = check(ops, max_steps=None, deadline=time.monotonic() + budget_s, clock=time.monotonic)
    return {
        "checker": "linearizability",
        "valid": result.valid,
        "keys_checked": result.keys_checked,
        "unknown_keys": result.unknown_keys,
        "failures": [f.key for f in result.failures],
        "explanation": _explain(result, ops),
        "ops": sorted({i for f in result.failures for i in f.ops}),
    }


def _explain(result: CheckResult, history: list[Op], keys: int = 3) -> str:
    """The checker's account of the first few keys that failed (every key is in the results)."""
    if result.valid is True:
        return ""
    text = describe(msgspec.structs.replace(result, failures=result.failures[:keys]), history)
    more = len(result.failures) - keys
    return text + (f"\n... and {more} more keys that are not linearizable" if more > 0 else "")
