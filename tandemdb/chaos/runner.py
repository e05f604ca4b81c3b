"""One chaos run, start to finish.

1. Start a cluster of real ``tandem start`` processes (``ChaosCluster``; namespaces or loopback).
2. Fault phase (``time_s``): the workload's workers run while the nemesis thread injects and heals faults.
3. Everything is healed; a quiet phase (``quiet_s``) with the workload still running; the workload's final
   reads. The cluster must be back to its size in voters, have served ops in the quiet phase and answered
   the final reads ("recovery").
4. Check the history, then write the run's folder: ``history.jsonl``, ``results.json``, ``latency.png``,
   ``rate.png``, ``timeline.html`` and ``cluster/`` (the nodes' logs; their data too unless the run was valid).

Verdict: invalid if a checker found a violation, the cluster did not recover, or a node crashed on its own;
unknown if a checker ran out of time; valid otherwise. Exit codes 0, 1, 2.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..checker.history import Op, Recorder, to_jsonl
from .cluster import ChaosCluster
from .generator import NemesisDriver
from .nemesis import NEMESES, Context, Fault
from .net import open_net
from .progress import Progress
from .report import plots, timeline
from .workloads import WORKLOADS
from .workloads.base import OP_TIMEOUT_S, Workload

EXIT_CODES = {True: 0, False: 1, None: 2}


class ChaosError(RuntimeError):
    """The run could not be carried out (no cluster, bad options); not a verdict."""


@dataclass
class ChaosConfig:
    nodes: int = 3
    time_s: float = 60.0
    workload: str = "register"
    nemeses: list[str] = field(default_factory=lambda: ["kill", "pause", "partition"])
    seed: int | None = None
    out: Path | None = None
    bug: str | None = None
    net: str = "auto"  # auto, netns or loopback
    concurrency: int = 10
    quiet_s: float = 10.0
    check_budget_s: float = 120.0  # for the linearizability search


@dataclass
class RunResult:
    valid: bool | None
    out: Path
    results: dict

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.valid]


def run(cfg: ChaosConfig, progress: Progress | None = None) -> RunResult:
    if cfg.workload not in WORKLOADS:
        raise ChaosError(f"unknown workload {cfg.workload!r}; known: {', '.join(WORKLOADS)}")
    unknown = sorted(set(cfg.nemeses) - set(NEMESES))
    if unknown:
        raise ChaosError(f"unknown nemeses {unknown}; known: {', '.join(NEMESES)}")
    seed = cfg.seed if cfg.seed is not None else random.randrange(1 << 31)
    out = cfg.out or Path("chaos-runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{cfg.workload}-{seed}"
    out.mkdir(parents=True, exist_ok=True)
    progress = progress or Progress(None)
    net, net_reason = open_net(cfg.net)
    try:
        cluster = ChaosCluster.build(out / "cluster", cfg.nodes, net, bugs=(cfg.bug,) if cfg.bug else ())
        with cluster:
            cluster.start_all()
            if cluster.await_leader(60.0) is None:
                raise ChaosError(f"the cluster elected no leader in 60 s; see the logs in {cluster.root}")
            t0 = time.monotonic()
            recorder = Recorder(lambda: time.monotonic() - t0)
            workload = WORKLOADS[cfg.workload](cluster, recorder, seed)
            nemeses = [NEMESES[name]() for name in dict.fromkeys(cfg.nemeses)]
            ctx = Context(cluster, random.Random(seed), recorder.clock, cfg.nodes)
            driver = NemesisDriver(ctx, nemeses, cfg.time_s)
            phases = asyncio.run(_drive(cfg, workload, driver, cluster, recorder, progress))
            recorder.close()
    finally:
        net.close()

    progress.phase("checking")
    ops = recorder.ops
    checked = workload.check(ops, cfg.check_budget_s)
    crashes = [asdict(e) for e in driver.events if e.kind == "crash"]
    phases["members_restored"] = driver.members_restored
    recovery_ok = phases["final_reads"] and phases["quiet_ok_ops"] > 0 and driver.members_restored
    verdicts = [checked["valid"], recovery_ok, not crashes]
    valid = False if False in verdicts else (None if None in verdicts else True)
    results = {
        "valid": valid,
        "exit_code": EXIT_CODES[valid],
        "workload": cfg.workload,
        "nemeses": list(dict.fromkeys(cfg.nemeses)),
        "nodes": cfg.nodes,
        "seed": seed,
        "bug": cfg.bug,
        "net": {"mode": net.mode, "why": net_reason},
        "time_s": cfg.time_s,
        "quiet_s": cfg.quiet_s,
        "concurrency": cfg.concurrency,
        "ops": _op_stats(ops),
        "checker": checked,
        "recovery": {"valid": recovery_ok, **phases},
        "crashes": crashes,
        "events": [asdict(e) for e in driver.events if e.kind != "crash"],  # nemesis errors, failed starts
        "faults": [_fault_record(f) for f in driver.faults],
    }
    _write(out, cluster, ops, results, valid)
    return RunResult(valid, out, results)


async def _drive(
    cfg: ChaosConfig, workload: Workload, driver: NemesisDriver, cluster: ChaosCluster, recorder: Recorder,
    progress: Progress,
) -> dict:
    clock = recorder.clock
    await workload.setup()
    stop = asyncio.Event()
    workers = [asyncio.create_task(workload.worker(i, stop)) for i in range(cfg.concurrency)]
    total = cfg.time_s + cfg.quiet_s
    progress.start(total)
    nemesis = asyncio.create_task(asyncio.to_thread(driver.run))
    try:
        progress.phase("faults")
        while not nemesis.done():
            progress.update(clock(), recorder.counts, [f"{f.nemesis}:{f.kind}" for _, f in driver.active])
            await asyncio.wait({nemesis}, timeout=0.25)
        nemesis.result()
        healed_at = clock()
        progress.phase("quiet")
        await asyncio.to_thread(cluster.await_leader, 60.0)
        quiet_end = clock() + cfg.quiet_s
        while clock() < quiet_end:
            progress.update(min(clock(), total), recorder.counts, [])
            await asyncio.sleep(0.25)
    finally:
        driver.stop()
        stop.set()
        await asyncio.wait(workers, timeout=3 * OP_TIMEOUT_S)
        if not nemesis.done():
            await nemesis
    progress.phase("final reads")
    final_reads = await workload.final()
    await workload.clients.close()
    progress.done()
    quiet_ok = sum(1 for op in recorder.ops if op.status == "ok" and op.invoke >= healed_at and op.node != "final")
    return {"healed_at": round(healed_at, 3), "quiet_ok_ops": quiet_ok, "final_reads": final_reads}


def _op_stats(ops: list[Op]) -> dict:
    stats: dict[str, dict[str, int]] = {}
    for op in ops:
        row = stats.setdefault(op.f, {"ok": 0, "fail": 0, "info": 0})
        row[op.status] += 1
    return {"total": len(ops), "by_f": stats}


def _fault_record(fault: Fault) -> dict:
    record = asdict(fault)
    record.pop("state")
    record["start"] = round(fault.start, 3)
    record["end"] = None if fault.end is None else round(fault.end, 3)
    return record


def _write(out: Path, cluster: ChaosCluster, ops: list[Op], results: dict, valid: bool | None) -> None:
    (out / "history.jsonl").write_bytes(to_jsonl(ops))
    results["artifacts"] = {
        "history": str(out / "history.jsonl"),
        "results": str(out / "results.json"),
        "latency_plot": str(out / "latency.png"),
        "rate_plot": str(out / "rate.png"),
        "timeline": str(out / "timeline.html"),
        "logs": str(cluster.root),
    }
    plots.latency(ops, results["faults"], out / "latency.png")
    plots.rate(ops, results["faults"], out / "rate.png")
    timeline.write(ops, results, out / "timeline.html")
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    if valid:
        for node_id in list(cluster.nodes) + sorted(cluster.retired):
            shutil.rmtree(cluster.data_dir(node_id), ignore_errors=True)
