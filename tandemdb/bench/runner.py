"""The runner: for each system and workload a fresh 3-node cluster, then one measured run per client count.

A run spawns the load generator processes (``loadgen``), waits until every one is connected and loaded, gives
them one common window (after a warm-up), samples the servers' CPU time over that window, kills the leader in
it if the workload says so, and merges what the generators recorded.
"""

from __future__ import annotations

import array
import asyncio
import json
import random
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cpu import CpuMeter
from .stats import Latencies
from .systems import System, system_class
from .workloads import KEYS, Workload, key, workload_class

WARMUP_S = 1.0
TAPE_OPS = 1 << 16  # operations on the tape of a generator that replays one
READY_TIMEOUT_S = 60.0
PRELOAD_CONCURRENCY = 64
TICK_S = 0.2

Progress = Callable[[float, str], None]  # (seconds of measuring done since the last call, what runs)


@dataclass
class Plan:
    systems: list[str]
    workloads: list[str]
    clients: list[int] | None  # None: each workload's own list
    duration: float
    value_size: int = 100
    generators: int = 2  # load generator processes per run (at most one per client)
    native_clients: bool = True  # drive a system by its own language's client when it can be had here
    data_dir: Path | None = None  # where clusters keep their data; a temporary directory by default

    def client_counts(self, workload: str) -> list[int]:
        return self.clients or list(workload_class(workload).default_clients)

    def total_seconds(self) -> float:
        return self.duration * len(self.systems) * sum(len(self.client_counts(w)) for w in self.workloads)


@dataclass
class Run:
    system: str
    client_name: str
    workload: Workload
    clients: int
    generators: int
    duration: float
    latencies: Latencies
    errors: int
    first_error: str
    server_cpu_s: float
    client_cpu_s: float
    killed_at: float | None

    def row(self) -> dict:
        ops = len(self.latencies)
        return {
            "system": self.system,
            "workload": self.workload.name,
            "clients": self.clients,
            "throughput": round(ops / self.duration, 1),
            **self.workload.summarize(self.latencies, self.killed_at),
            "server_cpu_s_per_1k": _per_1k(self.server_cpu_s, ops),
            "client_cpu_s_per_1k": _per_1k(self.client_cpu_s, ops),
            "errors": self.errors,
            "client": self.client_name,
            "generator_processes": self.generators,
        }


def _per_1k(cpu_s: float, ops: int) -> float | None:
    return round(cpu_s / ops * 1000, 4) if ops else None


def run_plan(plan: Plan, progress: Progress) -> tuple[list[Run], dict[str, str]]:
    """Every run of the plan, and each system's version."""
    runs: list[Run] = []
    versions: dict[str, str] = {}
    for system_name in plan.systems:
        for workload_name in plan.workloads:
            workload = workload_class(workload_name)(plan.value_size)
            counts = plan.client_counts(workload_name)
            # A run that kills the leader leaves a damaged cluster: it gets one of its own.
            batches = [[c] for c in counts] if workload.kill_leader_at is not None else [counts]
            for batch in batches:
                with tempfile.TemporaryDirectory(prefix=f"bench-{system_name}-", dir=plan.data_dir) as root:
                    system = system_class(system_name)(Path(root))
                    try:
                        progress(0.0, f"{system_name} {workload_name}: starting the cluster")
                        system.start()
                        versions[system_name] = system.version()
                        loadgen = Loadgen.choose(system, plan)
                        if workload.preload:
                            asyncio.run(preload(system, system.client_spec(), workload))
                        for clients in batch:
                            runs.append(measure(system, loadgen, workload, clients, plan, Path(root), progress))
                    finally:
                        system.stop()
    return runs, versions


@dataclass
class Loadgen:
    command: list[str]
    client_name: str
    replays_tape: bool

    @classmethod
    def choose(cls, system: System, plan: Plan) -> Loadgen:
        native = system.native_loadgen() if plan.native_clients else None
        if native:
            return cls(native, system.native_client_name, True)
        return cls([sys.executable, "-m", "tandemdb.bench.loadgen"], system.client_name, False)


def write_tape(path: Path, workload: Workload, seed: int) -> None:
    rng = random.Random(seed)
    ops = (workload.next_op(rng) for _ in range(TAPE_OPS))
    path.write_text(json.dumps([[kind, key.decode()] for kind, key in ops]))


async def preload(system: System, client_spec: dict, workload: Workload) -> None:
    client = await system.connect(client_spec)
    indexes = iter(range(KEYS))

    async def loader() -> None:
        for i in indexes:
            await client.put(key(i), workload.value)

    try:
        await asyncio.gather(*(loader() for _ in range(PRELOAD_CONCURRENCY)))
    finally:
        await client.close()


def measure(
    system: System, loadgen: Loadgen, workload: Workload, clients: int, plan: Plan, root: Path, progress: Progress
) -> Run:
    label = f"{system.name} {workload.name} x{clients}"
    procs = min(plan.generators, clients)
    spec = {"system": system.name, "client_spec": system.client_spec(), "workload": workload.name,
            "value_size": plan.value_size}
    specs: list[dict[str, Any]] = []
    for i in range(procs):
        share = clients // procs + (i < clients % procs)
        specs.append({**spec, "clients": share, "seed": i + 1, "out": str(root / f"loadgen-{clients}-{i}.out")})
        if loadgen.replays_tape:
            specs[-1]["tape"] = str(root / f"tape-{i}.json")
            write_tape(Path(specs[-1]["tape"]), workload, seed=i + 1)
    generators: list[subprocess.Popen[str]] = []
    try:
        for own in specs:
            generators.append(subprocess.Popen(loadgen.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                               text=True))
            _send(generators[-1], own)
        progress(0.0, f"{label}: connecting")
        for gen in generators:
            _wait_ready(gen)
        start = time.monotonic() + WARMUP_S
        end = start + plan.duration
        for gen in generators:
            _send(gen, {"start": start, "end": end})
        kill_at = None if workload.kill_leader_at is None else start + workload.kill_leader_at * plan.duration
        server_cpu_s, killed_at = _watch(system, start, end, kill_at, lambda s: progress(s, label))
        for gen in generators:
            if gen.wait(timeout=READY_TIMEOUT_S) != 0:
                raise RuntimeError(f"{label}: a load generator exited with status {gen.returncode}")
    finally:
        for gen in generators:
            if gen.poll() is None:
                gen.kill()
                gen.wait()
    results: list[dict] = []
    pairs: list[tuple[float, float]] = []
    for own in specs:
        result, flat = read_result(Path(own["out"]))
        results.append(result)
        pairs.extend(zip(flat[0::2], flat[1::2], strict=True))
    return Run(
        system=system.name,
        client_name=loadgen.client_name,
        workload=workload,
        clients=clients,
        generators=procs,
        duration=plan.duration,
        latencies=Latencies(pairs, start, end),
        errors=sum(r["errors"] for r in results),
        first_error=next((r["first_error"] for r in results if r["first_error"]), ""),
        server_cpu_s=server_cpu_s,
        client_cpu_s=sum(r["cpu_s"] for r in results),
        killed_at=killed_at,
    )


def _watch(
    system: System, start: float, end: float, kill_at: float | None, advance: Callable[[float], None]
) -> tuple[float, float | None]:
    """Through the window: the servers' CPU seconds in it, and when the leader was killed (if ``kill_at``)."""
    meter = CpuMeter(system.server_pids())
    killed_at = None
    time.sleep(max(0.0, start - time.monotonic()))
    cpu_start = meter.sample()
    now = start
    while now < end:
        time.sleep(max(0.0, min(TICK_S, end - now)))
        meter.sample()  # also just before a kill: the killed leader keeps its CPU time
        if kill_at is not None and killed_at is None and time.monotonic() >= kill_at:
            killed_at = system.kill_leader()
        advance(min(time.monotonic(), end) - now)
        now = time.monotonic()
    return meter.sample() - cpu_start, killed_at


def _send(gen: subprocess.Popen[str], message: dict) -> None:
    assert gen.stdin is not None  # started with stdin=PIPE
    gen.stdin.write(json.dumps(message) + "\n")
    gen.stdin.flush()


def read_result(path: Path) -> tuple[dict, array.array]:
    """A generator's result file: its JSON header, and the float64 (start, end) pairs that follow."""
    header, _, data = path.read_bytes().partition(b"\n")
    flat = array.array("d")
    flat.frombytes(data)
    if sys.byteorder != "little":
        flat.byteswap()
    return json.loads(header), flat


def _wait_ready(gen: subprocess.Popen[str]) -> None:
    # A generator that cannot connect dies with a traceback on stderr (inherited) and closes stdout.
    assert gen.stdout is not None  # started with stdout=PIPE
    ready, _, _ = select.select([gen.stdout], [], [], READY_TIMEOUT_S)
    line = gen.stdout.readline() if ready else ""
    if line.strip() != "ready":
        gen.kill()
        raise RuntimeError(f"a load generator did not start (said {line.strip()!r}, status {gen.wait()})")
