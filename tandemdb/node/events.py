"""Notable events of a node (elections, membership changes), for its log and the web console's event list."""

from __future__ import annotations

from typing import NamedTuple

from ..raft.types import ConfChange, ConfChangeType, ConfState

_VERBS = {ConfChangeType.ADD_NODE: "add voter", ConfChangeType.ADD_LEARNER: "add learner",
          ConfChangeType.REMOVE_NODE: "remove"}


class NodeEvent(NamedTuple):
    kind: str  # "leader" or "membership"
    group: int
    term: int
    message: str

    def __str__(self) -> str:
        return self.message


def leader_event(group: int, term: int, leader: int) -> NodeEvent:
    return NodeEvent("leader", group, term, f"group {group}: leader is node {leader or 'unknown'} (term {term})")


def membership_event(group: int, term: int, cc: ConfChange, cs: ConfState) -> NodeEvent:
    verbs = [f"{_VERBS.get(ConfChangeType(c.type), str(c.type))} {c.node_id}" for c in cc.changes]
    changes = ", ".join(verbs) or "leave joint config"
    voters = ",".join(map(str, sorted(cs.voters))) or "-"
    learners = ",".join(map(str, sorted(cs.learners))) or "-"
    return NodeEvent("membership", group, term, f"group {group}: {changes}; voters {voters}, learners {learners}")
