"""Slow and lossy links, through the nodes' transport fault hook (tc netem is not available): every frame a
target node sends to a peer is delayed (in order), or dropped with some probability, or both."""

from __future__ import annotations

from .base import Context, Fault, Nemesis

KINDS = ("slow", "lossy", "flaky")


class Link(Nemesis):
    name = "link"

    def begin(self, ctx: Context) -> Fault | None:
        kind = ctx.rng.choice(KINDS)
        targets = ctx.pick(ctx.rng.randint(1, len(ctx.members())))
        delay = ctx.rng.choice((20, 50, 150)) if kind != "lossy" else 0
        jitter = delay // 2
        loss = ctx.rng.choice((0.05, 0.2, 0.4)) if kind != "slow" else 0.0
        ctx.cluster.set_links(targets, delay_ms=delay, jitter_ms=jitter, loss=loss)
        detail = f"from node {', '.join(map(str, targets))}: delay {delay}+{jitter} ms, loss {loss:.0%}"
        return ctx.fault(self.name, kind, targets, detail)

    def heal(self, ctx: Context, fault: Fault) -> None:
        ctx.cluster.set_links([n for n in fault.targets if n in ctx.cluster.nodes])
