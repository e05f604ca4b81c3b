"""The leader's view of the cluster: the active configuration (possibly joint), every peer's progress, and
the votes of the current election."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .progress import Inflights, Progress
from .quorum import VoteResult, joint_committed, joint_vote
from .types import ConfState


@dataclass(frozen=True)
class TrackerConfig:
    voters: frozenset[int] = frozenset()  # the incoming (or only) voters
    voters_outgoing: frozenset[int] = frozenset()  # non-empty only while joint
    learners: frozenset[int] = frozenset()
    learners_next: frozenset[int] = frozenset()  # become learners when the joint configuration is left
    auto_leave: bool = False

    @property
    def joint(self) -> bool:
        return bool(self.voters_outgoing)

    def all_voters(self) -> frozenset[int]:
        return self.voters | self.voters_outgoing

    def conf_state(self) -> ConfState:
        return ConfState(
            voters=tuple(sorted(self.voters)),
            learners=tuple(sorted(self.learners)),
            voters_outgoing=tuple(sorted(self.voters_outgoing)),
            learners_next=tuple(sorted(self.learners_next)),
            auto_leave=self.auto_leave,
        )

    @staticmethod
    def from_conf_state(cs: ConfState) -> TrackerConfig:
        return TrackerConfig(
            voters=frozenset(cs.voters),
            voters_outgoing=frozenset(cs.voters_outgoing),
            learners=frozenset(cs.learners),
            learners_next=frozenset(cs.learners_next),
            auto_leave=cs.auto_leave,
        )

    def with_(self, **changes: Any) -> TrackerConfig:
        return replace(self, **changes)


@dataclass
class ProgressTracker:
    max_inflight: int
    max_inflight_bytes: int
    config: TrackerConfig = field(default_factory=TrackerConfig)
    progress: dict[int, Progress] = field(default_factory=dict)
    votes: dict[int, bool] = field(default_factory=dict)

    def new_progress(self, next_index: int, is_learner: bool) -> Progress:
        return Progress(next_index, Inflights(self.max_inflight, self.max_inflight_bytes), is_learner)

    def committed(self) -> int:
        match = {i: pr.match for i, pr in self.progress.items()}
        return joint_committed(self.config.voters, self.config.voters_outgoing, match)

    def is_voter(self, node: int) -> bool:
        return node in self.config.voters or node in self.config.voters_outgoing

    def peers(self) -> list[int]:
        """Every node that receives the log (voters and learners), in a deterministic order."""
        return sorted(self.progress)

    def voter_ids(self) -> list[int]:
        return sorted(self.config.all_voters())

    def quorum_active(self) -> bool:
        active = {i: pr.recent_active for i, pr in self.progress.items() if not pr.is_learner}
        return joint_vote(self.config.voters, self.config.voters_outgoing, active) == VoteResult.WON

    def reset_votes(self) -> None:
        self.votes = {}

    def record_vote(self, node: int, granted: bool) -> None:
        self.votes.setdefault(node, granted)

    def tally_votes(self) -> tuple[int, int, VoteResult]:
        granted = rejected = 0
        for node in self.config.all_voters():
            v = self.votes.get(node)
            if v is True:
                granted += 1
            elif v is False:
                rejected += 1
        return granted, rejected, joint_vote(self.config.voters, self.config.voters_outgoing, self.votes)

    def vote_result(self, acks: dict[int, bool]) -> VoteResult:
        return joint_vote(self.config.voters, self.config.voters_outgoing, acks)
