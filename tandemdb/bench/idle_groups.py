"""What idle Raft groups cost: CPU per second of each node of a 3-node cluster hosting 1, 100 and 1,000 groups
that nobody uses, with quiescence on (the default) and off (``tandem start --quiesce-ticks 0``).

    python -m tandemdb.bench.idle_groups [--groups 1,100,1000] [--seconds 10] [--json FILE]

For each setting it starts a fresh cluster, creates the groups on every node (``GroupCreate``), waits until
every group has a leader (and, with quiescence, until every replica sleeps), then samples the CPU time of the
three server processes over ``--seconds``. A benchmark, not a test: figures depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from ..client import AsyncClient
from ..tools.local_cluster import LocalCluster
from .cpu import CpuMeter

NODES = 3
SETTLE_TIMEOUT_S = 120.0


class _Cluster(LocalCluster):
    quiesce_ticks = 3

    def command(self, node_id: int) -> list[str]:
        return super().command(node_id) + ["--quiesce-ticks", str(self.quiesce_ticks)]


async def _create_groups(endpoints: list[str], first: int, count: int) -> None:
    async with AsyncClient(endpoints) as client:
        for group in range(first, first + count):
            await client.group_create(group, list(range(1, NODES + 1)))


def _metric(cluster: LocalCluster, node_id: int, name: str) -> list[float]:
    import urllib.request

    with urllib.request.urlopen(cluster.nodes[node_id].http_url + "/metrics", timeout=10) as resp:
        text = resp.read().decode()
    return [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{")]


def _settled(cluster: LocalCluster, groups: int, quiesce: bool) -> bool:
    for node_id in cluster.nodes:
        leaders = _metric(cluster, node_id, "tandem_server_has_leader")
        if len(leaders) != groups or not all(leaders):
            return False
        if quiesce and not all(_metric(cluster, node_id, "tandem_server_group_quiesced")):
            return False
    return True


def _pids(cluster: LocalCluster) -> list[int]:
    pids = []
    for node_id in cluster.nodes:
        pid = cluster.pid(node_id)
        if pid is None:
            raise RuntimeError(f"node {node_id} is not running")
        pids.append(pid)
    return pids


def measure(groups: int, seconds: float, quiesce: bool, root: Path) -> dict:
    cluster = _Cluster.create(root, NODES, log_level="warning")
    cluster.quiesce_ticks = 3 if quiesce else 0
    cluster.start_all()
    try:
        cluster.wait_for_leader()
        if groups > 1:
            asyncio.run(_create_groups(cluster.endpoints(), 2, groups - 1))
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while not _settled(cluster, groups, quiesce):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{groups} groups did not settle in {SETTLE_TIMEOUT_S:.0f} s")
            time.sleep(0.5)
        time.sleep(1.0)  # the last quiesce heartbeats and their answers
        meter = CpuMeter(_pids(cluster))
        before, started = meter.sample(), time.monotonic()
        time.sleep(seconds)
        cpu, wall = meter.sample() - before, time.monotonic() - started
    finally:
        cluster.kill_all()
    return {"groups": groups, "quiesce": quiesce, "cpu_s_per_s_per_node": cpu / wall / NODES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", default="1,100,1000", help="comma list of group counts")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to sample the CPU")
    parser.add_argument("--json", dest="json_file", default=None, help="write the rows to this file")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.groups.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tandem-idle-") as tmp:
        for quiesce in (True, False):
            for n in counts:
                row = measure(n, args.seconds, quiesce, Path(tmp) / f"{n}-{quiesce}")
                rows.append(row)
                print(f"{n:>5} idle groups, quiescence {'on ' if quiesce else 'off'}: "
                      f"{row['cpu_s_per_s_per_node'] * 100:6.2f}% of a core per node", flush=True)
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
