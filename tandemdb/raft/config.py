"""Configuration of one Raft peer. Randomness is injected: a seeded generator owned by the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from .storage import Storage


class Rng(Protocol):
    """The one thing Raft needs of a random generator; pass a seeded ``random.Random``."""

    def randrange(self, stop: int, /) -> int: ...  # positional-only, so that random.Random matches


class ReadOnlyOption(Enum):
    SAFE = "safe"  # ReadIndex: the leader confirms its leadership with a quorum round before serving
    LEASE_BASED = "lease"  # the leader serves from its lease; relies on bounded clock drift (needs check_quorum)


@dataclass
class Config:
    id: int
    storage: Storage
    rng: Rng  # injected, seeded: the only source of randomness (election timeouts)
    election_tick: int = 10
    heartbeat_tick: int = 1
    applied: int = 0  # the last index the application has applied (on restart)
    max_size_per_msg: int = 1 << 20  # bytes of entries in one append message
    max_inflight_msgs: int = 256  # append messages in flight to one follower
    max_inflight_bytes: int = 32 << 20  # bytes of entries in flight to one follower
    max_uncommitted_entries_size: int = 64 << 20  # bytes of proposals not yet committed before proposals are refused
    max_committed_size_per_ready: int = 16 << 20  # bytes of committed entries handed out per Ready
    snapshot_chunk_size: int = 1 << 20  # bytes of snapshot data per snapshot message
    check_quorum: bool = True
    pre_vote: bool = True
    read_only_option: ReadOnlyOption = ReadOnlyOption.SAFE
    # Lease reads: the lease lasts ``election_tick - max_clock_drift_ticks`` ticks after a quorum acknowledged
    # a heartbeat, so that it expires before any follower may vote for another candidate even if this
    # node's clock runs that much slower than theirs.
    max_clock_drift_ticks: int = 2
    disable_proposal_forwarding: bool = False
    step_down_on_removal: bool = True
    # Known-bug switches, for the simulator's self-tests only (see tandemdb.raft.bugs).
    bugs: frozenset[str] = field(default_factory=frozenset)

    def validate(self) -> None:
        if self.id == 0:
            raise ValueError("node id 0 is reserved for 'nobody'")
        if self.heartbeat_tick <= 0:
            raise ValueError("heartbeat_tick must be greater than 0")
        if self.election_tick <= self.heartbeat_tick:
            raise ValueError("election_tick must be greater than heartbeat_tick")
        if self.max_inflight_msgs <= 0:
            raise ValueError("max_inflight_msgs must be greater than 0")
        if self.read_only_option is ReadOnlyOption.LEASE_BASED:
            if not self.check_quorum:
                raise ValueError("lease-based reads need check_quorum")
            if not 0 <= self.max_clock_drift_ticks < self.election_tick:
                raise ValueError("max_clock_drift_ticks must be in [0, election_tick)")
        unknown = set(self.bugs) - set(_known_bugs())
        if unknown:
            raise ValueError(f"unknown bug switches: {sorted(unknown)}")


def _known_bugs() -> dict[str, str]:
    from .bugs import BUGS

    return BUGS
