"""Quorum arithmetic for majority and joint configurations (Raft thesis 4.3: joint consensus needs a majority
of both the old and the new configuration)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import IntEnum

INFINITE = 1 << 63  # the committed index of an empty configuration: it never constrains the joint minimum


class VoteResult(IntEnum):
    PENDING = 0
    LOST = 1
    WON = 2


def majority_committed(voters: Collection[int], match: Mapping[int, int]) -> int:
    """The largest index acknowledged by a majority of ``voters`` (missing voters count as 0)."""
    n = len(voters)
    if n == 0:
        return INFINITE
    if n == 1:
        (only,) = voters
        return match.get(only, 0)
    acked = sorted((match.get(v, 0) for v in voters), reverse=True)
    return acked[n // 2]


def majority_vote(voters: Collection[int], votes: Mapping[int, bool]) -> VoteResult:
    if not voters:
        return VoteResult.WON  # an empty configuration agrees to everything (the joint case's other half decides)
    granted = missing = 0
    for v in voters:
        got = votes.get(v)
        if got is None:
            missing += 1
        elif got:
            granted += 1
    quorum = len(voters) // 2 + 1
    if granted >= quorum:
        return VoteResult.WON
    if granted + missing >= quorum:
        return VoteResult.PENDING
    return VoteResult.LOST


def joint_committed(incoming: Collection[int], outgoing: Collection[int], match: Mapping[int, int]) -> int:
    return min(majority_committed(incoming, match), majority_committed(outgoing, match))


def joint_vote(incoming: Collection[int], outgoing: Collection[int], votes: Mapping[int, bool]) -> VoteResult:
    a, b = majority_vote(incoming, votes), majority_vote(outgoing, votes)
    if a == b:
        return a
    if VoteResult.LOST in (a, b):
        return VoteResult.LOST
    return VoteResult.PENDING
