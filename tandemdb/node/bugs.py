"""Known-bug switches for a whole node: the consensus core's (``tandemdb.raft.bugs``) plus the node's own.

Debug only: ``tandem start --bug NAME`` turns one on, so that the chaos harness can prove it catches it.
"""

from __future__ import annotations

from ..raft.bugs import BUGS as RAFT_BUGS

NODE_BUGS: dict[str, str] = {
    "stale_follower_read": "a follower answers linearizable reads from its own state, without ReadIndex",
}

# ``ack_before_persist`` and ``forget_vote_on_restart`` are raft-level names that the node implements: the
# node decides when messages leave and what a restart reads back.
BUGS: dict[str, str] = {**RAFT_BUGS, **NODE_BUGS}


def check_bugs(bugs: frozenset[str]) -> None:
    unknown = sorted(set(bugs) - set(BUGS))
    if unknown:
        raise ValueError(f"unknown bug switches {unknown}; known: {sorted(BUGS)}")
