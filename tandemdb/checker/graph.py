"""A directed graph of transactions whose edges carry kinds (``ww``, ``wr``, ``rw``, ``rt``): strongly connected
components and shortest cycles through chosen kinds of edges, for the list-append checker."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

KINDS = ("ww", "wr", "rw", "rt")  # most telling first: a path names the first of these that an edge has


class DepGraph:
    def __init__(self) -> None:
        self.out: dict[int, dict[int, set[str]]] = {}  # node -> successor -> kinds of the edges between them

    def add(self, a: int, b: int, kind: str) -> None:
        if a == b:
            return
        self.out.setdefault(a, {}).setdefault(b, set()).add(kind)
        self.out.setdefault(b, {})

    def kinds(self, a: int, b: int) -> set[str]:
        return self.out.get(a, {}).get(b, set())

    def edges(self, kind: str) -> Iterable[tuple[int, int]]:
        for a, succ in self.out.items():
            for b, kinds in succ.items():
                if kind in kinds:
                    yield a, b

    def components(self) -> list[set[int]]:
        """The strongly connected components of more than one node (Tarjan's algorithm, without recursion)."""
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        on_stack: set[int] = set()
        stack: list[int] = []
        found: list[set[int]] = []
        counter = 0
        for root in self.out:
            if root in index:
                continue
            work = [(root, iter(self.out[root]))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, successors = work[-1]
                advanced = False
                for succ in successors:
                    if succ not in index:
                        index[succ] = low[succ] = counter
                        counter += 1
                        stack.append(succ)
                        on_stack.add(succ)
                        work.append((succ, iter(self.out[succ])))
                        advanced = True
                        break
                    if succ in on_stack:
                        low[node] = min(low[node], index[succ])
                if advanced:
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
        return found

    def path(self, start: int, goal: int, kinds: frozenset[str], within: set[int]) -> list[tuple[int, str]] | None:
        """A shortest path from ``start`` to ``goal`` inside ``within`` using only edges of ``kinds``, as
        [(node, kind of the edge to the next node), ...] ending with (goal, ""); None if there is none."""
        previous: dict[int, tuple[int, str]] = {start: (start, "")}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                steps = [(goal, "")]
                while node != start:
                    node, kind = previous[node]
                    steps.append((node, kind))
                return steps[::-1]
            for succ, edge_kinds in self.out[node].items():
                if succ in within and succ not in previous:
                    usable = [k for k in KINDS if k in edge_kinds and k in kinds]
                    if usable:
                        previous[succ] = (node, usable[0])
                        queue.append(succ)
        return None
