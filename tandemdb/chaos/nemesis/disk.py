"""Disk faults on a stopped node: flip a bit in a log segment or snapshot file, cut the last log segment short
inside its records, or zero its last records in place (a torn write). Then the node is started again. It must
refuse to start (a checksum names the damage) or recover (a torn tail is dropped), and never serve wrong data: the
workload's checker sees what it serves.

The victim is a follower, killed while the rest of the cluster runs on, and the fault runs alone: the others
then hold every committed entry, so a follower that lost an acknowledged tail cannot take a committed entry
with it (losing acknowledged data on more than one node at once is beyond what Raft tolerates). If the node
refuses to start, its files are put back as they were and it starts again.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..cluster import ChaosCluster
from .base import Context, Fault, Nemesis, wait_until

_SEGMENT_HEADER = 64
_START_TIMEOUT_S = 60.0


@dataclass
class Damage:
    description: str
    undo: Callable[[], None]


def data_end(path: Path) -> int:
    """One past the last non-zero byte: log segments are preallocated with zeros."""
    size = path.stat().st_size
    chunk = 1 << 20
    with open(path, "rb") as f:
        pos = size
        while pos > 0:
            start = max(0, pos - chunk)
            f.seek(start)
            data = f.read(pos - start).rstrip(b"\0")
            if data:
                return start + len(data)
            pos = start
    return 0


def _files(data_dir: Path) -> list[Path]:
    found = sorted((data_dir / "wal").glob("*.wal")) + sorted((data_dir / "snap").glob("*.snap"))
    return [p for p in found if data_end(p) > _SEGMENT_HEADER]


def flip_bit(data_dir: Path, rng: random.Random) -> Damage | None:
    files = _files(data_dir)
    if not files:
        return None
    path = rng.choice(files)
    offset, bit = rng.randrange(data_end(path)), rng.randrange(8)
    with open(path, "r+b") as f:
        f.seek(offset)
        original = f.read(1)
        f.seek(offset)
        f.write(bytes([original[0] ^ (1 << bit)]))

    def undo() -> None:
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(original)

    return Damage(f"flipped bit {bit} of byte {offset} of {path.relative_to(data_dir)}", undo)


def truncate_tail(data_dir: Path, rng: random.Random, *, torn: bool = False) -> Damage | None:
    """Cut the file inside its last records (Jepsen's truncate), or with ``torn`` zero them in place, as a
    write torn by a power loss leaves a preallocated segment."""
    segments = [p for p in _files(data_dir) if p.suffix == ".wal"]
    if not segments:
        return None
    path = segments[-1]
    end, size = data_end(path), path.stat().st_size
    cut = rng.randint(1, min(512, end - _SEGMENT_HEADER))
    with open(path, "r+b") as f:
        f.seek(end - cut)
        tail = f.read(cut)
        if torn:
            f.seek(end - cut)
            f.write(bytes(cut))
    if not torn:
        os.truncate(path, end - cut)

    def undo() -> None:
        with open(path, "r+b") as f:
            f.seek(end - cut)
            f.write(tail)
        os.truncate(path, size)

    what = "zeroed" if torn else "cut off"
    return Damage(f"{what} the last {cut} bytes of the records of {path.relative_to(data_dir)}", undo)


DAMAGE = {
    "bitflip": flip_bit,
    "truncate": truncate_tail,
    "torn-tail": lambda data_dir, rng: truncate_tail(data_dir, rng, torn=True),
}


class Disk(Nemesis):
    name = "disk"
    exclusive = True

    def begin(self, ctx: Context) -> Fault | None:
        cluster = ctx.cluster
        leader = cluster.leader()
        followers = [n for n in cluster.up() if n != leader]
        if leader is None or not followers:
            return None
        kind = ctx.rng.choice(sorted(DAMAGE))
        target = ctx.rng.choice(sorted(followers))
        fault = ctx.fault(self.name, kind, [target])
        cluster.kill(target)
        time.sleep(1.0)  # the others go on, past what the victim had
        damage = DAMAGE[kind](cluster.data_dir(target), ctx.rng)
        if damage is None:
            cluster.start(target)
            fault.detail = "no file to damage"
            return fault
        cluster.start(target)
        outcome = wait_until(lambda: _outcome(cluster, target), _START_TIMEOUT_S, interval=0.2)
        if outcome and outcome[0] == "exited":
            damage.undo()
            cluster.start(target)
            fault.detail = (
                f"{damage.description}: refused to start (exit status {outcome[1]}: {_error(cluster, target)})"
            )
        elif outcome:
            fault.detail = f"{damage.description}: started and serves"
        else:
            fault.detail = f"{damage.description}: neither started nor stopped in {_START_TIMEOUT_S:.0f} s"
        return fault

    def heal(self, ctx: Context, fault: Fault) -> None:
        for node_id in fault.targets:
            if node_id in ctx.cluster.nodes and not ctx.cluster.running(node_id):
                ctx.cluster.start(node_id)


def _outcome(cluster: ChaosCluster, node_id: int) -> tuple[str, int] | None:
    """("exited", status) if the node stopped, ("up", 0) once it answers, None while it does neither."""
    code = cluster.returncode(node_id)
    if code is not None:
        return "exited", code
    return ("up", 0) if cluster.node_status(node_id, timeout=0.5) is not None else None


def _error(cluster: ChaosCluster, node_id: int) -> str:
    lines = [line for line in cluster.log_tail(node_id, 30).splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line]
    return (errors or lines or ["no output"])[-1].strip()[:300]
