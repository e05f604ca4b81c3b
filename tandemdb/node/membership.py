"""A group's membership: its Raft configuration, its member table (addresses and labels, replicated through the
log), member changes waiting to apply, and leadership transfers waiting to finish.

Node ids are the cluster's; a group's configuration says which nodes replicate it (group membership), and the
member table says how to reach them. A member announces its own addresses and labels with ``PublishMember``.
"""

from __future__ import annotations

from ..raft.rawnode import RawNode
from ..raft.types import ConfChange, ConfChangeSingle, ConfChangeType, ConfState, Entry
from ..wire.client_api import Error, ErrorKind, Member, MemberResult, MemberStatus, OkResult
from . import commands as gc
from .events import membership_event
from .group_output import GroupOutput
from .waiters import Waiter

_LOST = Error(ErrorKind.UNAVAILABLE, "leadership changed before the request committed; it was not applied")
_TIMEOUT = Error(ErrorKind.TIMEOUT, "no answer in time; a write may or may not have been applied")
_OK = OkResult()


class Membership:
    def __init__(self, group: int, out: GroupOutput, conf_state: ConfState, members: list[Member]) -> None:
        self.group = group
        self._out = out
        self.conf_state = conf_state
        self.members: dict[int, Member] = {m.id: m for m in members}
        self.waiting: dict[int, tuple[int, Waiter, int]] = {}  # entry index -> (term, waiter, member id)
        self.transfers: list[tuple[Waiter, int]] = []  # (waiter, target) of leadership transfers
        self.publish_at = 0  # the tick at which to announce this node's member record again if needed

    def __len__(self) -> int:
        return len(self.waiting) + len(self.transfers)

    def reset(self, conf_state: ConfState, members: list[Member]) -> None:
        """A snapshot replaced the state."""
        self.conf_state = conf_state
        self.members = {m.id: m for m in members}
        self._out.members_changed = True

    def table(self) -> list[Member]:
        return [self.members[i] for i in sorted(self.members)]

    def statuses(self) -> list[MemberStatus]:
        cs = self.conf_state
        ids = sorted(set(cs.voters) | set(cs.learners) | set(cs.voters_outgoing) | set(cs.learners_next))
        learners = set(cs.learners) | set(cs.learners_next)
        return [MemberStatus(self.members.get(i) or Member(i, ""), i in learners) for i in ids]

    def in_config(self, node_id: int) -> bool:
        cs = self.conf_state
        return node_id in cs.voters or node_id in cs.learners or node_id in cs.learners_next

    def next_member_id(self) -> int:
        cs = self.conf_state
        known = set(self.members) | set(cs.voters) | set(cs.learners) | set(cs.voters_outgoing)
        return max(known, default=0) + 1

    # -- changes ------------------------------------------------------------------------------------------------
    def propose(self, rn: RawNode, cc: ConfChange, waiter: Waiter, member_id: int) -> None:
        """Raises ``ProposalDroppedError`` if Raft refuses the change."""
        rn.propose_conf_change(cc)
        self.waiting[rn.raft.log.last_index()] = (rn.raft.term, waiter, member_id)

    def apply_change(self, rn: RawNode, e: Entry) -> ConfChange:
        cc = ConfChange.decode(e.data)
        self.conf_state = rn.apply_conf_change(cc)
        for change in cc.changes:
            if change.type == ConfChangeType.REMOVE_NODE:
                self.members.pop(change.node_id, None)
            elif cc.context:
                member = gc.decode_member(cc.context)
                if member.id == change.node_id:
                    self.members[member.id] = member
        self._out.members_changed = True
        self._out.log.append(membership_event(self.group, e.term, cc, self.conf_state))
        pending = self.waiting.pop(e.index, None)
        if pending is not None:
            term, waiter, member_id = pending
            if term != e.term:
                self._out.reply(waiter, _LOST)
            else:
                member = self.members.get(member_id) or Member(member_id, "")
                self._out.reply(waiter, MemberResult(member, self.statuses()))
        return cc

    def publish(self, member: Member) -> None:
        """A ``PublishMember`` applied."""
        if self.in_config(member.id):
            self.members[member.id] = member
            self._out.members_changed = True

    def leader_changed(self, leader: int) -> None:
        done = [w for w, target in self.transfers if target == leader]
        self.transfers = [(w, t) for w, t in self.transfers if t != leader]
        for w in done:
            self._out.reply(w, _OK)

    def expire(self, now: int) -> int:
        """Answer what timed out; returns how many member changes did."""
        late = [i for i, (_, w, _) in self.waiting.items() if w.deadline <= now]
        for index in late:
            self._out.reply(self.waiting.pop(index)[1], _TIMEOUT)
        for w, target in self.transfers:
            if w.deadline <= now:
                self._out.reply(w, Error(ErrorKind.TIMEOUT, f"leadership did not move to node {target} in time"))
        self.transfers = [(w, t) for w, t in self.transfers if w.deadline > now]
        return len(late)

    def take_all(self) -> list[Waiter]:
        out = [w for _, w, _ in self.waiting.values()] + [w for w, _ in self.transfers]
        self.waiting, self.transfers = {}, []
        return out


def add_change(node_id: int, learner: bool, member: Member | None) -> ConfChange:
    kind = ConfChangeType.ADD_LEARNER if learner else ConfChangeType.ADD_NODE
    context = gc.encode(member) if member is not None else b""
    return ConfChange((ConfChangeSingle(kind, node_id),), context=context)


def remove_change(node_id: int) -> ConfChange:
    return ConfChange((ConfChangeSingle(ConfChangeType.REMOVE_NODE, node_id),))

