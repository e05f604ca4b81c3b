"""The one registry of known-bug switches: the consensus core's (``tandemdb.raft.bugs``) plus the node's own.

Debug only: ``tandem sim --bug NAME`` and ``tandem start --bug NAME`` turn one on, so that the simulator and
the chaos harness can prove they catch it. Each is guarded in the code by ``"name" in cfg.bugs``.
"""

from __future__ import annotations

from ..raft.bugs import BUGS as RAFT_BUGS

NODE_BUGS: dict[str, str] = {
    "stale_follower_read": "a follower answers linearizable reads from its own state, without ReadIndex",
    "read_before_apply": "a ReadIndex read is answered once confirmed, before the node applied up to the read index",
    "duplicate_retry": "a retried write is applied again instead of answered from its client session",
    "watch_skips_event": "after a leader change, watchers of the group miss the next revision's events",
}

# ``ack_before_persist`` and ``forget_vote_on_restart`` are raft-level names that the node implements: the
# node decides when messages leave and what a restart reads back.
BUGS: dict[str, str] = {**RAFT_BUGS, **NODE_BUGS}


def check_bugs(bugs: frozenset[str]) -> None:
    unknown = sorted(set(bugs) - set(BUGS))
    if unknown:
        raise ValueError(f"unknown bug switches {unknown}; known: {sorted(BUGS)}")
