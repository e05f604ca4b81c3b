"""Raft's safety properties (Figure 3 of the paper), checked incrementally after every simulation step.

- Election safety: at most one leader per term.
- Log matching: two logs with an entry of the same index and term hold the same entry and agree on the term
  of the entry before it (so, by induction, on the whole prefix).
- Leader completeness: a new leader's log holds every entry known to be committed.
- State machine safety: no two nodes apply different entries at one index.
- Commit index never decreases on a running node.
- Durability: every committed entry stays durable (in the log or a snapshot) on a majority of the nodes;
  checked whenever durable data can disappear (a crash, a truncation of the log).
- Committed means safe: when a leader commits an entry, no voter lacking it could win an election, that is,
  gather a quorum of voters whose durable logs are no more up to date than its own (§5.4.1). This is the
  inductive heart of leader completeness; it fails at the moment of an unsafe commit (Figure 8), long before
  a later election would overwrite the entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..raft.quorum import VoteResult, joint_vote
from ..raft.storage import MemoryStorage
from ..raft.types import Entry, Role

if TYPE_CHECKING:
    from .node import SimNode


class Violation(Exception):
    pass


class Invariants:
    def __init__(self, nodes: dict[int, "SimNode"]) -> None:
        self.nodes = nodes  # every node ever started, by id (the simulation's own dict)
        self.leaders: dict[int, int] = {}  # term -> leader
        self.entries: dict[tuple[int, int], tuple[bytes, int]] = {}  # (index, term) -> (data, previous term)
        self.committed: dict[int, int] = {}  # index -> term, of entries some node has committed
        self.applied: dict[int, tuple[int, bytes]] = {}  # index -> (term, data)
        self.commit_seen: dict[tuple[int, int], int] = {}  # (node, incarnation) -> commit index
        self.max_committed = 0

    def on_persist(self, node: int, entries: list[Entry], storage: MemoryStorage) -> None:
        prev_term = None
        for e in entries:
            if prev_term is None:
                prev_term = self._term_before(storage, e.index)
            key = (e.index, e.term)
            seen = self.entries.get(key)
            if seen is None or seen[1] is None:
                if seen is not None and seen[0] != e.data:
                    raise Violation(f"log matching: node {node} holds a different entry at index {e.index} term {e.term}")
                self.entries[key] = (e.data, prev_term)
            elif seen[0] != e.data or (prev_term is not None and seen[1] != prev_term):
                raise Violation(f"log matching: node {node} holds a different entry at index {e.index} term {e.term}")
            prev_term = e.term

    @staticmethod
    def _term_before(storage: MemoryStorage, index: int) -> int | None:
        if index - 1 < storage.first_index() - 1 or index - 1 > storage.last_index():
            return None
        return storage.term(index - 1)

    def on_apply(self, node: int, e: Entry) -> None:
        seen = self.applied.get(e.index)
        if seen is None:
            self.applied[e.index] = (e.term, e.data)
        elif seen != (e.term, e.data):
            raise Violation(
                f"state machine safety: node {node} applied term {e.term} at index {e.index}, another node term {seen[0]}"
            )

    def on_node_step(self, n: "SimNode") -> None:
        if not n.alive:
            return
        r = n.rn.raft
        key = (n.id, n.incarnation)
        commit = r.log.committed
        before = self.commit_seen.get(key, 0)
        if commit < before:
            raise Violation(f"node {n.id}: commit index decreased from {before} to {commit}")
        if commit > before:
            self.commit_seen[key] = commit
            for i in range(max(before + 1, r.log.first_index() - 1), commit + 1):  # first - 1: the snapshot
                t = r.log.term(i)
                if t is None:
                    continue
                known = self.committed.get(i)
                if known is None:
                    self.committed[i] = t
                    self.max_committed = max(self.max_committed, i)
                elif known != t:
                    raise Violation(f"node {n.id} committed term {t} at index {i}, another node committed term {known}")
        if r.role == Role.LEADER and commit > before:
            self._check_commit_safe(n, commit)
        if r.role == Role.LEADER:
            leader = self.leaders.get(r.term)
            if leader is None:
                self.leaders[r.term] = n.id
                self._check_completeness(n)
            elif leader != n.id:
                raise Violation(f"election safety: nodes {leader} and {n.id} are both leaders of term {r.term}")

    def _check_commit_safe(self, leader: "SimNode", index: int) -> None:
        cfg = leader.rn.raft.tracker.config
        term = self.committed[index]
        voters = sorted(cfg.all_voters())
        durable = {v: _last(self.nodes[v].durable) for v in voters if v in self.nodes}
        for cand in voters:
            node = self.nodes.get(cand)
            if node is None or _holds_log(node, index, term):
                continue
            mine = _last_volatile(node)
            votes = {v: mine >= pos for v, pos in durable.items()}
            if joint_vote(cfg.voters, cfg.voters_outgoing, votes) == VoteResult.WON:
                raise Violation(
                    f"unsafe commit: node {leader.id} committed index {index} (term {term}) in term "
                    f"{leader.rn.raft.term}, but node {cand} lacks it and could still win an election"
                )

    def _check_completeness(self, n: "SimNode") -> None:
        log = n.rn.raft.log
        first = log.first_index()
        for i in sorted(self.committed):
            if i < first:
                continue
            t = log.term(i)
            if t != self.committed[i]:
                raise Violation(
                    f"leader completeness: node {n.id} leads term {n.rn.raft.term} without committed entry "
                    f"{i} (term {self.committed[i]}; it has {t})"
                )

    def check_durable_quorum(self, storages: Iterable[MemoryStorage], quorum: int) -> None:
        """The newest committed entry is durable on ``quorum`` nodes (holders of it hold every earlier one)."""
        index = self.max_committed
        if index == 0:
            return
        term = self.committed[index]
        holders = sum(1 for st in storages if _holds(st, index, term))
        if holders < quorum:
            raise Violation(f"durability: committed entry {index} (term {term}) is durable on only {holders} nodes")


def _holds(st: MemoryStorage, index: int, term: int) -> bool:
    if st.snapshot().meta.index >= index:
        return True
    return st.first_index() <= index <= st.last_index() and st.term(index) == term


def _last(st: MemoryStorage) -> tuple[int, int]:
    last = st.last_index()
    return st.term(last), last


def _last_volatile(n: "SimNode") -> tuple[int, int]:
    if not n.alive:
        return _last(n.durable)
    log = n.rn.raft.log
    return max((log.last_term(), log.last_index()), _last(n.durable))


def _holds_log(n: "SimNode", index: int, term: int) -> bool:
    if _holds(n.durable, index, term):
        return True
    if not n.alive:
        return False
    log = n.rn.raft.log
    return index < log.first_index() or log.term(index) == term
