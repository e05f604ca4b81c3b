"""Network partitions, as Jepsen's: isolate one node or the leader, split into a majority and a minority, a
ring of overlapping majorities, or a bridge. A partition is a "grudge": for each node, the nodes it stops
hearing from. All are symmetric."""

from __future__ import annotations

import random

from .base import Context, Fault, Nemesis

KINDS = ("isolate-one", "isolate-leader", "halves", "majorities-ring", "bridge")


def split(a: list[int], b: list[int]) -> dict[int, set[int]]:
    """Cut every link between group ``a`` and group ``b``."""
    grudges = {n: set(b) for n in a}
    grudges.update({n: set(a) for n in b})
    return grudges


def isolate(node: int, nodes: list[int]) -> dict[int, set[int]]:
    return split([node], [n for n in nodes if n != node])


def halves(nodes: list[int], rng: random.Random) -> dict[int, set[int]]:
    shuffled = rng.sample(nodes, len(nodes))
    cut = len(nodes) // 2  # the first half is the minority
    return split(shuffled[:cut], shuffled[cut:])


def majorities_ring(nodes: list[int], rng: random.Random) -> dict[int, set[int]]:
    """Each node keeps links to its neighbours on a ring, enough to see a majority, and no two nodes see the
    same majority. Three nodes cannot do it symmetrically: one link is cut, so the ends see different pairs."""
    ring = rng.sample(nodes, len(nodes))
    n = len(ring)
    reach = -(-(n // 2) // 2)  # neighbours kept on each side, so 1 + 2 * reach > n / 2: 5 -> 1, 7 -> 2
    if n <= 3:
        return split([ring[0]], [ring[-1]])
    grudges = {}
    for i, node in enumerate(ring):
        seen = {ring[(i + d) % n] for d in range(-reach, reach + 1)}
        grudges[node] = set(ring) - seen
    return grudges


def bridge(nodes: list[int], rng: random.Random) -> dict[int, set[int]]:
    """Two halves that cannot talk, and one node that talks to both."""
    rest = rng.sample(nodes, len(nodes))[1:]  # the node left out is the bridge
    cut = len(rest) // 2
    return split(rest[:cut], rest[cut:])


class Partition(Nemesis):
    name = "partition"

    def begin(self, ctx: Context) -> Fault | None:
        nodes = ctx.members()
        kind = ctx.rng.choice(KINDS)
        if kind == "isolate-one":
            grudges = isolate(ctx.rng.choice(nodes), nodes)
        elif kind == "isolate-leader":
            leader = ctx.cluster.leader()
            if leader is None:
                return None
            grudges = isolate(leader, nodes)
        elif kind == "halves":
            grudges = halves(nodes, ctx.rng)
        elif kind == "majorities-ring":
            grudges = majorities_ring(nodes, ctx.rng)
        else:
            grudges = bridge(nodes, ctx.rng)
        ctx.cluster.partition(grudges)
        targets = sorted(n for n, g in grudges.items() if g)
        return ctx.fault(self.name, kind, targets, describe(grudges))

    def heal(self, ctx: Context, fault: Fault) -> None:
        ctx.cluster.partition({})


def describe(grudges: dict[int, set[int]]) -> str:
    cut = sorted({tuple(sorted((a, b))) for a, g in grudges.items() for b in g})
    return "cut " + ", ".join(f"{a}-{b}" for a, b in cut)
