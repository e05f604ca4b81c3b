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


class Kill(Nemesis):
    name = "kill"

    def begin(self, ctx: Context) -> Fault | None:
        kind = ctx.rng.choice(TARGETS)
        targets = choose_targets(ctx, kind)
        if not targets:
            return None
        for node_id in targets:
            ctx.cluster.kill(node_id)
        return ctx.fault(self.name, kind, targets, f"SIGKILL node {', '.join(map(str, targets))}")

    def heal(self, ctx: Context, fault: Fault) -> None:
        for node_id in fault.targets:
            if node_id in ctx.cluster.nodes and not ctx.cluster.running(node_id):
                ctx.cluster.start(node_id)


class Pause(Nemesis):
    name = "pause"

    def begin(self, ctx: Context) -> Fault | None:
        kind = ctx.rng.choice(TARGETS)
        targets = choose_targets(ctx, kind)
        if not targets:
            return None
        for node_id in targets:
            ctx.cluster.pause(node_id)
        return ctx.fault(self.name, kind, targets, f"SIGSTOP node {', '.join(map(str, targets))}")

    def heal(self, ctx: Context, fault: Fault) -> None:
        for node_id in fault.targets:
            ctx.cluster.resume(node_id)
