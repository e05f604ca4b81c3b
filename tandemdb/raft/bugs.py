"""Known-bug switches: real Raft bugs that can be turned on, one at a time, to prove that the simulator
catches them. Off by default; for tests only (``tandem sim --list-bugs`` / ``--bug NAME``)."""

BUGS: dict[str, str] = {
    "commit_previous_term": "leader commits an entry of an earlier term by counting replicas (Figure 8, §5.4.2)",
    "vote_without_log_check": (
        "a voter grants its vote without checking that the candidate's log is up to date (§5.4.1)"
    ),
    "ack_before_persist": "votes and append acknowledgements are sent before the log and vote are durable",
    "stale_leader_read": "a leader serves reads from local state without confirming leadership (no ReadIndex round)",
    "forget_vote_on_restart": "the vote is not persisted, so a restarted node can vote twice in one term",
    "truncate_matching_suffix": "a follower drops its log after an append's entries even when they match (§5.3)",
}
