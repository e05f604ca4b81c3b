"""Clock faults. A node's clock is its tick count (``docs/node.md``): elections, heartbeats, leader step-down,
request deadlines and lease expiry all count ticks. Skew makes some nodes tick faster or slower, a strobe
makes them alternate fast and slow, a bump jumps a clock forward (a burst of ticks) or holds it back. The
host's clock is never touched."""

from __future__ import annotations

from .base import Context, Fault, Nemesis

KINDS = ("skew", "strobe", "bump")


class Clock(Nemesis):
    name = "clock"

    def begin(self, ctx: Context) -> Fault | None:
        kind = ctx.rng.choice(KINDS)
        targets = ctx.pick(ctx.rng.randint(1, len(ctx.members())))
        parts = []
        for node_id in targets:
            if kind == "skew":
                rate = ctx.rng.choice((0.25, 0.5, 2.0, 4.0))
                ctx.cluster.set_clock(node_id, [rate])
                parts.append(f"node {node_id} x{rate:g}")
            elif kind == "strobe":
                period = ctx.rng.choice((50, 100, 250))
                ctx.cluster.set_clock(node_id, [0.2, 5.0], period_ms=period)
                parts.append(f"node {node_id} x0.2/x5 every {period} ms")
            else:
                ms = ctx.rng.choice((-2000, -500, 500, 2000, 5000))
                ctx.cluster.set_clock(node_id, [1.0], bump_ms=ms)
                parts.append(f"node {node_id} {ms:+d} ms")
        return ctx.fault(self.name, kind, targets, "; ".join(parts))

    def heal(self, ctx: Context, fault: Fault) -> None:
        for node_id in fault.targets:
            if node_id in ctx.cluster.nodes:
                ctx.cluster.set_clock(node_id, [1.0])
