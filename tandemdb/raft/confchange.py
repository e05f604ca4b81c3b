"""Membership changes: single-server changes (Raft thesis 4.1) and joint consensus (thesis 4.3), computed as
a new tracker configuration and progress map without mutating the current ones."""

from __future__ import annotations

from .progress import Progress
from .tracker import ProgressTracker, TrackerConfig
from .types import ConfChangeSingle, ConfChangeType, ConfState


class ConfChangeError(ValueError):
    """A membership change that must not be applied (it would break the one-change-at-a-time rules)."""


class Changer:
    def __init__(self, tracker: ProgressTracker, last_index: int) -> None:
        self.tracker = tracker
        self.last_index = last_index

    def simple(self, changes: tuple[ConfChangeSingle, ...]) -> tuple[TrackerConfig, dict[int, Progress]]:
        cfg = self.tracker.config
        if cfg.joint:
            raise ConfChangeError("a simple change cannot be applied to a joint configuration")
        new, prs = self._apply(cfg, changes)
        if len(new.voters ^ cfg.voters) > 1:
            raise ConfChangeError("more than one voter changed without joint consensus")
        return self._checked(new, prs)

    def enter_joint(
        self, auto_leave: bool, changes: tuple[ConfChangeSingle, ...]
    ) -> tuple[TrackerConfig, dict[int, Progress]]:
        cfg = self.tracker.config
        if cfg.joint:
            raise ConfChangeError("already in a joint configuration")
        if not cfg.voters:
            raise ConfChangeError("cannot enter a joint configuration from an empty one")
        start = cfg.with_(voters_outgoing=cfg.voters)
        new, prs = self._apply(start, changes)
        return self._checked(new.with_(auto_leave=auto_leave), prs)

    def leave_joint(self) -> tuple[TrackerConfig, dict[int, Progress]]:
        cfg = self.tracker.config
        if not cfg.joint:
            raise ConfChangeError("not in a joint configuration")
        prs = dict(self.tracker.progress)
        learners = set(cfg.learners)
        for node in cfg.learners_next:
            learners.add(node)
            prs[node].is_learner = True
        for node in cfg.voters_outgoing:
            if node not in cfg.voters and node not in learners:
                prs.pop(node, None)
        new = TrackerConfig(voters=cfg.voters, learners=frozenset(learners))
        return self._checked(new, prs)

    # -- helpers ---------------------------------------------------------------------------------------------
    def _apply(
        self, cfg: TrackerConfig, changes: tuple[ConfChangeSingle, ...]
    ) -> tuple[TrackerConfig, dict[int, Progress]]:
        voters, learners, learners_next = set(cfg.voters), set(cfg.learners), set(cfg.learners_next)
        prs = dict(self.tracker.progress)
        for cc in changes:
            node = cc.node_id
            if node == 0:
                continue  # etcd accepts a zero id as a no-op change
            if cc.type == ConfChangeType.ADD_NODE:
                learners.discard(node)
                learners_next.discard(node)
                voters.add(node)
                self._ensure(prs, node, False)
            elif cc.type == ConfChangeType.ADD_LEARNER:
                voters.discard(node)
                if node in cfg.voters_outgoing:
                    learners_next.add(node)  # still a voter of the outgoing half until the joint state is left
                    learners.discard(node)
                    self._ensure(prs, node, False)
                else:
                    learners.add(node)
                    self._ensure(prs, node, True)
            elif cc.type == ConfChangeType.REMOVE_NODE:
                voters.discard(node)
                learners.discard(node)
                learners_next.discard(node)
                if node not in cfg.voters_outgoing:
                    prs.pop(node, None)
            else:
                raise ConfChangeError(f"unknown change type {cc.type}")
        if not voters:
            raise ConfChangeError("removed all voters")
        new = cfg.with_(voters=frozenset(voters), learners=frozenset(learners), learners_next=frozenset(learners_next))
        return new, prs

    def _ensure(self, prs: dict[int, Progress], node: int, is_learner: bool) -> None:
        pr = prs.get(node)
        if pr is None:
            pr = self.tracker.new_progress(max(self.last_index, 1), is_learner)
            pr.recent_active = True  # a new peer should not make the leader step down at once
            prs[node] = pr
        else:
            # Copy: the current progress map must stay untouched until the new configuration is switched in.
            copy = self.tracker.new_progress(pr.next, is_learner)
            copy.match, copy.state, copy.recent_active = pr.match, pr.state, pr.recent_active
            copy.pending_snapshot = pr.pending_snapshot
            prs[node] = copy

    @staticmethod
    def _checked(cfg: TrackerConfig, prs: dict[int, Progress]) -> tuple[TrackerConfig, dict[int, Progress]]:
        if cfg.voters & cfg.learners or cfg.voters_outgoing & cfg.learners:
            raise ConfChangeError("a node is both a voter and a learner")
        if cfg.learners_next - cfg.voters_outgoing:
            raise ConfChangeError("learners_next must be outgoing voters")
        if not cfg.joint and cfg.auto_leave:
            raise ConfChangeError("auto_leave set outside a joint configuration")
        for node in cfg.all_voters() | cfg.learners | cfg.learners_next:
            if node not in prs:
                raise ConfChangeError(f"no progress for node {node}")
        return cfg, prs


def restore(tracker: ProgressTracker, cs: ConfState, next_index: int) -> None:
    """Reset ``tracker`` to the configuration ``cs`` (on start-up or when installing a snapshot)."""
    cfg = TrackerConfig.from_conf_state(cs)
    prs: dict[int, Progress] = {}
    for node in cfg.all_voters() | cfg.learners_next:
        prs[node] = tracker.new_progress(next_index, False)
    for node in cfg.learners:
        prs[node] = tracker.new_progress(next_index, True)
    tracker.config = cfg
    tracker.progress = prs
