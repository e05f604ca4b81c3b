"""One load generator process: ``clients`` asyncio tasks share one client of the system under test, each running
operations of the workload back to back (so ``clients`` is the number of operations in flight).

The runner talks to it over stdin and stdout, so that several generators measure the same window:

1. stdin, one JSON line: ``{"system", "client_spec", "workload", "value_size", "clients", "seed", "out"}``
   (and ``"tape"``, the path of a JSON list of [kind, key], which only generators in other languages use);
2. it connects, starts its clients (the warm-up) and prints ``ready``;
3. stdin, one JSON line: ``{"start", "end"}`` in ``time.monotonic()`` seconds (one clock for every process);
4. it records each operation that completes inside the window, measures its own CPU time over the window,
   stops at ``end`` and writes to ``out`` a JSON line ``{"errors", "cpu_s", "first_error"}`` followed by
   little-endian float64 pairs (start, end) of the recorded operations.

A failed attempt (error or timeout) counts as an error and is retried as is after a short pause: an operation's
latency runs from its first attempt to its success.
"""

from __future__ import annotations

import array
import asyncio
import json
import random
import resource
import sys
import time
from dataclasses import dataclass, field

import uvloop

from .systems import BenchClient, system_class
from .workloads import Kind, Op, Workload, workload_class

RETRY_PAUSE_S = 0.01
DRAIN_S = 10.0  # how long operations still in flight at the end may take before they are cancelled


@dataclass
class Recorder:
    start: float = float("inf")
    end: float = float("inf")
    stop: asyncio.Event = field(default_factory=asyncio.Event)  # set by another task, seen after any await
    errors: int = 0
    first_error: str = ""
    pairs: array.array = field(default_factory=lambda: array.array("d"))

    def failed(self, error: Exception) -> None:
        if self.start <= time.monotonic() < self.end:
            self.errors += 1
            self.first_error = self.first_error or " ".join(f"{type(error).__name__}: {error}".split())[:300]


async def execute(client: BenchClient, op: Op, value: bytes) -> None:
    kind, key = op
    if kind is Kind.PUT:
        await client.put(key, value)
    else:
        await client.get(key, serializable=kind is Kind.SGET)


async def client_loop(client: BenchClient, workload: Workload, rng: random.Random, rec: Recorder) -> None:
    monotonic = time.monotonic
    while not rec.stop.is_set():
        op = workload.next_op(rng)
        started = monotonic()
        while True:
            try:
                await execute(client, op, workload.value)
                break
            except Exception as e:  # noqa: BLE001 - any failure of the system under test is an error to retry
                rec.failed(e)
                if rec.stop.is_set():
                    return
                await asyncio.sleep(RETRY_PAUSE_S)
        ended = monotonic()
        if rec.start <= ended < rec.end:
            rec.pairs.append(started)
            rec.pairs.append(ended)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process (gRPC has its own)
    return usage.ru_utime + usage.ru_stime


async def run(spec: dict) -> None:
    loop = asyncio.get_running_loop()
    client = await system_class(spec["system"]).connect(spec["client_spec"])
    workload = workload_class(spec["workload"])(spec["value_size"])
    rec = Recorder()
    tasks = [
        asyncio.create_task(client_loop(client, workload, random.Random(spec["seed"] * 100_003 + i), rec))
        for i in range(spec["clients"])
    ]
    print("ready", flush=True)
    window = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    rec.start, rec.end = window["start"], window["end"]
    await asyncio.sleep(max(0.0, rec.start - time.monotonic()))
    cpu_start = cpu_seconds()
    await asyncio.sleep(max(0.0, rec.end - time.monotonic()))
    cpu_s = cpu_seconds() - cpu_start
    rec.stop.set()
    _, late = await asyncio.wait(tasks, timeout=DRAIN_S)
    for task in late:
        task.cancel()
    await client.close()
    header = {"errors": rec.errors, "cpu_s": cpu_s, "first_error": rec.first_error}
    if sys.byteorder != "little":
        rec.pairs.byteswap()
    with open(spec["out"], "wb") as f:
        f.write(json.dumps(header).encode() + b"\n" + rec.pairs.tobytes())


def main() -> None:
    uvloop.run(run(json.loads(sys.stdin.readline())))


if __name__ == "__main__":
    main()
