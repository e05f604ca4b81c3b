"""The one place where the simulator looks inside a running ``Node``.

The invariant checks need Raft internals (role, term, leader, commit index, the log's terms, progress) and
the group's applied configuration. The node does not export them (nothing outside a test should want them),
so they are reached here and nowhere else in ``sim/``: when the node core renames its parts, only this module
changes.
"""

from __future__ import annotations

from ..node import Node
from ..node.config import DATA_GROUP
from ..raft.raft import Raft
from ..raft.types import ConfState, Role
from ..storage.group_storage import GroupStorage

GROUP = DATA_GROUP  # the simulator runs one Raft group: the data group


def raft_of(node: Node, group: int = GROUP) -> Raft:
    return node.groups[group].rn.raft


def conf_state_of(node: Node, group: int = GROUP) -> ConfState:
    """The configuration the group has applied (what membership requests are decided against)."""
    return node.groups[group].conf_state


def storage_of(node: Node, group: int = GROUP) -> GroupStorage:
    """The group's storage index. It runs ahead of the disk while a write is in flight: what is durable is
    ``SimHost.durable``, rebuilt from the records the simulator has synced."""
    return node.storage.group(group)


def is_leader(node: Node, group: int = GROUP) -> bool:
    return raft_of(node, group).role == Role.LEADER


def match_of(node: Node, peer: int, group: int = GROUP) -> int | None:
    """How much of the leader's log ``peer`` is known to hold (None if the leader tracks no such peer)."""
    pr = raft_of(node, group).tracker.progress.get(peer)
    return None if pr is None else pr.match
