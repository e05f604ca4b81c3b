"""A simulated network: per-message delay (hence reordering), loss, duplication, and partitions expressed as
blocked directed links. Partitions are built in Jepsen's shapes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class LinkModel:
    min_delay: int = 200  # microseconds
    max_delay: int = 2_000
    slow_delay: int = 30_000  # occasional long delays reorder messages
    slow_prob: float = 0.0
    loss: float = 0.0
    duplicate: float = 0.0


@dataclass
class Network:
    rng: random.Random
    model: LinkModel = field(default_factory=LinkModel)
    blocked: set[tuple[int, int]] = field(default_factory=set)

    def deliveries(self, src: int, dst: int) -> list[int]:
        """Delays (µs) after which copies of one message from ``src`` arrive at ``dst``; empty if dropped."""
        if (src, dst) in self.blocked:
            return []
        m, rng = self.model, self.rng
        if m.loss and rng.random() < m.loss:
            return []
        copies = 2 if m.duplicate and rng.random() < m.duplicate else 1
        out = []
        for _ in range(copies):
            if m.slow_prob and rng.random() < m.slow_prob:
                out.append(rng.randint(m.max_delay, m.slow_delay))
            else:
                out.append(rng.randint(m.min_delay, m.max_delay))
        return out

    def heal(self) -> None:
        self.blocked.clear()

    def cut(self, groups: list[list[int]]) -> None:
        """Nodes talk only within their group (a node may be in several groups, as in a bridge)."""
        nodes = sorted({n for g in groups for n in g})
        allowed = {(a, b) for g in groups for a in g for b in g}
        self.blocked = {(a, b) for a in nodes for b in nodes if a != b and (a, b) not in allowed}

    def ring(self, nodes: list[int]) -> None:
        """Majorities ring: every node sees a majority (itself and its nearest neighbours), but no two nodes see
        the same majority."""
        n = len(nodes)
        reach = (n // 2 + 1) // 2
        allowed = {(a, nodes[(i + d) % n]) for i, a in enumerate(nodes) for d in range(-reach, reach + 1)}
        self.blocked = {(a, b) for a in nodes for b in nodes if a != b and (a, b) not in allowed}
