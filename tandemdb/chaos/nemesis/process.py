"""Process faults: SIGKILL and restart, SIGSTOP and SIGCONT; of one node, a minority, a majority or the leader."""

from __future__ import annotations

from .base import Context, Fault, Nemesis, majority, minority

TARGETS = ("one", "minority", "majority", "leader")


def choose_targets(ctx: Context, kind: str) -> list[int]:
    up = ctx.cluster.up()
    if kind == "leader":
        leader = ctx.cluster.leader()
        return [] if leader is None else [leader]
    count = {"one": 1, "minority": minority(len(ctx.members())), "majority": majority(len(ctx.members()))}[kind]
    return ctx.pick(max(count, 1), up)


class _SignalNodes(Nemesis):
    """Signal one node, a minority, a majority or the leader; ``hit`` does it to one node."""

    signal_name = ""

    def hit(self, ctx: Context, node_id: int) -> None:
        raise NotImplementedError

    def begin(self, ctx: Context) -> Fault | None:
        kind = ctx.rng.choice(TARGETS)
        targets = choose_targets(ctx, kind)
        if not targets:
            return None
        for node_id in targets:
            self.hit(ctx, node_id)
        return ctx.fault(self.name, kind, targets, f"{self.signal_name} node {', '.join(map(str, targets))}")


class Kill(_SignalNodes):
    name = "kill"
    signal_name = "SIGKILL"

    def hit(self, ctx: Context, node_id: int) -> None:
        ctx.cluster.kill(node_id)

    def heal(self, ctx: Context, fault: Fault) -> None:
        for node_id in fault.targets:
            if node_id in ctx.cluster.nodes and not ctx.cluster.running(node_id):
                ctx.cluster.start(node_id)


class Pause(_SignalNodes):
    name = "pause"
    signal_name = "SIGSTOP"

    def hit(self, ctx: Context, node_id: int) -> None:
        ctx.cluster.pause(node_id)

    def heal(self, ctx: Context, fault: Fault) -> None:
        for node_id in fault.targets:
            ctx.cluster.resume(node_id)
