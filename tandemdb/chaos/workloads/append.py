"""The list-append workload (Elle's): transactions of 1 to 4 micro-ops, each a read of a key or an append of a
unique value to it, checked for transactional anomalies by ``tandemdb.checker.list_append``.

A key holds its list as space-separated integers. A transaction that appends first reads the keys it appends
to, then commits one ``Txn`` that compares each such key's mod revision with what it read (0: absent) and runs
its micro-ops in order: a ``Range`` for a read (it sees the transaction's earlier appends), a ``Put`` of the
longer list for an append. A failed compare means nothing was written. A transaction that only reads one key
is a plain linearizable read at a random node. Each key takes at most ``APPENDS_PER_KEY`` appends, then a
fresh key replaces it, so that lists stay short.

Op: ``txn`` with value [["append", key, v] | ["r", key, None], ...]; the output fills in the reads' lists.
"""

from __future__ import annotations

import random
from typing import Any

from ...checker.history import Op, Recorder
from ...checker.list_append import Txn, check
from ...kv.commands import MOD, Compare, Put, Range, RequestOp
from ...kv.results import RangeResult
from ..cluster import ChaosCluster
from .base import Refused, Workload

ACTIVE_KEYS = 4
APPENDS_PER_KEY = 40
PREFIX = "chaos/append/"


def decode(value: bytes) -> list[int]:
    return [int(x) for x in value.split()]


def encode(values: list[int]) -> bytes:
    return " ".join(map(str, values)).encode()


class Append(Workload):
    name = "append"

    def __init__(self, cluster: ChaosCluster, recorder: Recorder, seed: int) -> None:
        super().__init__(cluster, recorder, seed)
        self.keys_made = 0
        self.active = [self._new_key() for _ in range(ACTIVE_KEYS)]
        self.appends_to: dict[str, int] = {k: 0 for k in self.active}

    def _new_key(self) -> str:
        self.keys_made += 1
        return f"{PREFIX}{self.keys_made:05d}"

    def _append_value(self, slot: int) -> tuple[str, int]:
        key = self.active[slot]
        self.appends_to[key] += 1
        value = self.appends_to[key]
        if value >= APPENDS_PER_KEY:
            self.active[slot] = self._new_key()
            self.appends_to[self.active[slot]] = 0
        return key, value

    def invoke(self, rng: random.Random, process: int) -> tuple[Op, bool]:
        mops: list[list[Any]] = []
        for _ in range(rng.randint(1, 4)):
            slot = rng.randrange(len(self.active))
            if rng.random() < 0.5:
                mops.append(["r", self.active[slot], None])
            else:
                mops.append(["append", *self._append_value(slot)])
        read_only = all(f == "r" for f, _, _ in mops)
        node = self.clients.pick(rng) if len(mops) == 1 and read_only else ""
        return self.recorder.invoke(process, "txn", value=mops, node=node), read_only

    async def run(self, op: Op, rng: random.Random) -> Any:
        mops = op.value
        if op.node:  # one read at one node
            ((_, key, _),) = mops
            kvs = (await self.clients.at(op.node).get(key)).kvs
            return [["r", key, decode(kvs[0].value) if kvs else []]]
        client = self.clients.any()
        current: dict[str, list[int]] = {}
        compares = []
        for key in dict.fromkeys(k for f, k, _ in mops if f == "append"):
            kvs = (await client.get(key)).kvs
            current[key] = decode(kvs[0].value) if kvs else []
            compares.append(Compare(key.encode(), MOD, "==", kvs[0].mod_revision if kvs else 0))
        ops: list[RequestOp] = []
        for f, key, value in mops:
            if f == "r":
                ops.append(Range(key.encode()))
            else:
                current[key] = current[key] + [value]
                ops.append(Put(key.encode(), encode(current[key])))
        result = await client.txn(compares, ops, [])
        if not result.succeeded:
            raise Refused("a key changed since it was read")
        out = []
        for (f, key, value), response in zip(mops, result.responses, strict=True):
            if f == "r":
                assert isinstance(response, RangeResult)  # the answer to the Range sent for this read
                kvs = response.kvs
                value = decode(kvs[0].value) if kvs else []
            out.append([f, key, value])
        return out

    async def final(self) -> bool:
        """Read every key at once (one range read, one revision) through the leader."""
        keys = [f"{PREFIX}{i:05d}" for i in range(1, self.keys_made + 1)]
        process = self.new_process()

        async def fetch() -> list:
            kvs = (await self.clients.any().get(PREFIX, prefix=True)).kvs
            lists = {kv.key.decode(): decode(kv.value) for kv in kvs}
            return [["r", k, lists.get(k, [])] for k in keys]

        async def read() -> bool:
            op = self.recorder.invoke(process, "txn", value=[["r", k, None] for k in keys], node="final")
            return await self.final_read(op, fetch)

        return await self.final_reads(read)

    @staticmethod
    def check(ops: list[Op], budget_s: float) -> dict:
        return check_history(ops, budget_s)


def check_history(ops: list[Op], budget_s: float = 0.0) -> dict:
    """Elle's anomalies, with real-time order (strict serializability)."""
    txns = [
        Txn(
            id=op.id,
            status=op.status,
            invoke=op.invoke,
            complete=op.complete if op.status == "ok" else None,
            mops=op.output if op.status == "ok" else op.value,
        )
        for op in ops
        if op.f == "txn"
    ]
    result = check(txns, realtime=True)
    return {
        "checker": "list-append",
        "valid": result.valid,
        "anomaly_types": result.anomaly_types,
        "counts": result.counts,
        "anomalies": [{"type": a.type, "ops": a.ops, "explanation": a.explanation} for a in result.anomalies],
        "ops": sorted({i for a in result.anomalies for i in a.ops}),
        "explanation": "\n".join(f"{a.type}: {a.explanation}" for a in result.anomalies),
        "txns": result.txns,
        "keys": result.keys,
    }
