"""Benchmark of the consensus core alone: committed entries per second through an in-process 3-node cluster
with no I/O (storage in memory, messages handed over directly) and batched proposals.

    python -m tandemdb.bench.raft_core [--entries 300000] [--batch 1000] [--size 100] [--profile]

A benchmark, not a test: it prints a rate; nothing asserts on it.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time

from ..raft.bootstrap import bootstrap
from ..raft.config import Config
from ..raft.rawnode import RawNode
from ..raft.storage import MemoryStorage
from ..raft.types import ConfChange, EntryType


class InProcessCluster:
    def __init__(self, n: int = 3) -> None:
        ids = tuple(range(1, n + 1))
        self.storages = {i: MemoryStorage() for i in ids}
        for st in self.storages.values():
            bootstrap(st, ids)
        self.nodes = {
            i: RawNode(Config(id=i, storage=self.storages[i], rng=random.Random(i), max_inflight_msgs=64))
            for i in ids
        }
        self.applied = 0  # entries applied on node 1

    def pump(self) -> None:
        """Process Readies until the cluster is quiet: persist, deliver, apply."""
        busy = True
        while busy:
            busy = False
            for i, node in self.nodes.items():
                if not node.has_ready():
                    continue
                busy = True
                rd = node.ready()
                st = self.storages[i]
                if rd.hard_state is not None:
                    st.set_hard_state(rd.hard_state)
                if rd.entries:
                    st.append(rd.entries)
                for e in rd.committed_entries:
                    if e.type == EntryType.CONF_CHANGE:
                        node.apply_conf_change(ConfChange.decode(e.data))
                if i == 1:
                    self.applied += len(rd.committed_entries)
                node.advance(rd)
                for m in rd.messages:
                    self.nodes[m.to].step(m)


def run(entries: int, batch: int, size: int) -> tuple[int, float]:
    c = InProcessCluster()
    c.pump()  # apply the bootstrap configuration
    c.nodes[1].campaign()
    c.pump()
    payloads = [bytes(size)] * batch
    leader = c.nodes[1]
    start_applied = c.applied
    t0 = time.perf_counter()
    proposed = 0
    while proposed < entries:
        leader.propose_batch(payloads)
        proposed += batch
        c.pump()
    elapsed = time.perf_counter() - t0
    return c.applied - start_applied, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=300_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--profile", action="store_true", help="print the top functions by cumulative time")
    a = ap.parse_args()
    if a.profile:
        prof = cProfile.Profile()
        prof.enable()
    applied, elapsed = run(a.entries, a.batch, a.size)
    if a.profile:
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    print(
        f"raft core, 3 nodes in one process, no I/O, batches of {a.batch} x {a.size} B: "
        f"{applied} entries committed and applied in {elapsed:.2f} s = {applied / elapsed:,.0f} entries/s"
    )


if __name__ == "__main__":
    main()
