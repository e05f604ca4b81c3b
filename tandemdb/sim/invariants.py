"""Raft's safety properties (Figure 3 of the paper), checked incrementally after every simulation step, on the
real nodes (their Raft state through ``views``) and on what their disks durably hold (``SimHost.durable``).

- Election safety: at most one leader per term.
- Vote safety: a node grants its vote to at most one candidate per term (§5.2: the vote is durable), checked
  on every vote a node sends.
- Log matching: two logs with an entry of the same index and term hold the same entry and agree on the term
  of the entry before it (so, by induction, on the whole prefix).
- Leader completeness: a new leader's log holds every entry known to be committed.
- State machine safety: no two nodes apply different entries at one index.
- Commit index never decreases on a running node.
- Durable commit index never decreases.
- Durability: every committed entry stays durable (in the log or a snapshot) on a majority of the nodes;
  checked whenever durable data can disappear (a crash, a truncation of the log).
- Committed means safe: when a leader commits an entry, no voter lacking it could win an election, that is,
  gather a quorum of voters whose durable logs are no more up to date than its own (§5.4.1). This is the
  inductive heart of leader completeness; it fails at the moment of an unsafe commit (Figure 8), long before
  a later election would overwrite the entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..raft.quorum import VoteResult, joint_vote
from ..raft.types import Entry, Message, MessageType, Role
from . import views

if TYPE_CHECKING:
    from .durable import DurableLog
    from .host import SimHost


class Violation(Exception):
    pass


class Invariants:
    def __init__(self, hosts: dict[int, SimHost]) -> None:
        self.hosts = hosts  # every node ever started, by id (the simulation's own dict)
        self.leaders: dict[int, int] = {}  # term -> leader
        self.votes: dict[tuple[int, int], int] = {}  # (voter, term) -> the candidate it voted for
        self.entries: dict[tuple[int, int], tuple[bytes, int | None]] = {}  # (index, term) -> (data, previous term)
        self.committed: dict[int, int] = {}  # index -> term, of entries some node has committed
        self.applied: dict[int, tuple[int, bytes]] = {}  # index -> (term, data)
        self.commit_seen: dict[tuple[int, int], int] = {}  # (node, incarnation) -> commit index
        self.max_committed = 0

    def on_persist(self, node: int, entries: list[Entry], durable: DurableLog) -> None:
        """Log matching, for every entry a node makes durable (before it goes into ``durable``)."""
        prev_term = durable.term(entries[0].index - 1)
        for e in entries:
            key = (e.index, e.term)
            seen = self.entries.get(key)
            if seen is None or seen[1] is None:
                if seen is not None and seen[0] != e.data:
                    raise Violation(
                        f"log matching: node {node} holds a different entry at index {e.index} term {e.term}"
                    )
                self.entries[key] = (e.data, prev_term)
            elif seen[0] != e.data or (prev_term is not None and seen[1] != prev_term):
                raise Violation(
                    f"log matching: node {node} holds a different entry at index {e.index} term {e.term}"
                    + ("" if seen[0] != e.data else f" (after term {prev_term}, another node's after term {seen[1]})")
                )
            prev_term = e.term

    def on_send(self, node: int, m: Message) -> None:
        if m.type == MessageType.VOTE_RESP and not m.reject:
            voted = self.votes.setdefault((node, m.term), m.to)
            if voted != m.to:
                raise Violation(f"vote safety: node {node} voted for both {voted} and {m.to} in term {m.term}")

    def on_apply(self, node: int, e: Entry) -> None:
        seen = self.applied.get(e.index)
        if seen is None:
            self.applied[e.index] = (e.term, e.data)
        elif seen != (e.term, e.data):
            raise Violation(
                f"state machine safety: node {node} applied term {e.term} at index {e.index}, "
                f"another node term {seen[0]}"
            )

    def on_node_step(self, h: SimHost) -> None:
        if h.node is None:
            return
        r = views.raft_of(h.node)
        key = (h.id, h.incarnation)
        commit = r.log.committed
        before = self.commit_seen.get(key, 0)
        if commit < before:
            raise Violation(f"node {h.id}: commit index decreased from {before} to {commit}")
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
                    raise Violation(
                        f"state machine safety: node {h.id} committed term {t} at index {i}, another node "
                        f"committed term {known}"
                    )
        if r.role == Role.LEADER and commit > before:
            self._check_commit_safe(h, commit)
        if r.role == Role.LEADER:
            leader = self.leaders.get(r.term)
            if leader is None:
                self.leaders[r.term] = h.id
                self._check_completeness(h)
            elif leader != h.id:
                raise Violation(f"election safety: nodes {leader} and {h.id} are both leaders of term {r.term}")

    def _check_commit_safe(self, leader: SimHost, index: int) -> None:
        r = views.raft_of(leader.running)
        cfg = r.tracker.config
        term = self.committed[index]
        voters = sorted(cfg.all_voters())
        durable = {v: self.hosts[v].durable.last() for v in voters if v in self.hosts}
        for cand in voters:
            host = self.hosts.get(cand)
            if host is None or _holds_log(host, index, term):
                continue
            mine = _last_volatile(host)
            votes = {v: mine >= pos for v, pos in durable.items()}
            if joint_vote(cfg.voters, cfg.voters_outgoing, votes) == VoteResult.WON:
                raise Violation(
                    f"unsafe commit: node {leader.id} committed index {index} (term {term}) in term "
                    f"{r.term}, but node {cand} lacks it and could still win an election"
                )

    def _check_completeness(self, h: SimHost) -> None:
        r = views.raft_of(h.running)
        log = r.log
        first = log.first_index()
        for i in sorted(self.committed):
            if i < first:
                continue
            t = log.term(i)
            if t != self.committed[i]:
                raise Violation(
                    f"leader completeness: node {h.id} leads term {r.term} without committed entry "
                    f"{i} (term {self.committed[i]}; it has {t})"
                )

    def check_durable_quorum(self, logs: list[DurableLog], quorum: int) -> None:
        """The newest committed entry is durable on ``quorum`` nodes (holders of it hold every earlier one)."""
        index = self.max_committed
        if index == 0:
            return
        term = self.committed[index]
        holders = sum(1 for log in logs if log.holds(index, term))
        if holders < quorum:
            raise Violation(f"durability: committed entry {index} (term {term}) is durable on only {holders} nodes")


def _last_volatile(h: SimHost) -> tuple[int, int]:
    if h.node is None:
        return h.durable.last()
    log = views.raft_of(h.node).log
    return max((log.last_term(), log.last_index()), h.durable.last())


def _holds_log(h: SimHost, index: int, term: int) -> bool:
    if h.durable.holds(index, term):
        return True
    if h.node is None:
        return False
    log = views.raft_of(h.node).log
    return index < log.first_index() or log.term(index) == term
