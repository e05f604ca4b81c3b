"""SIGTERM to the leader: it hands leadership over before it exits, and the writes in flight complete."""

from __future__ import annotations

import json
import re

from integration_harness import WAIT_S, Writer
from tandemdb.client import Client
from tandemdb.tools.local_cluster import LocalCluster

LEADER_LINE = re.compile(r"leader is node (\d+|unknown) \(term (\d+)\)")


def _messages(log: str) -> list[str]:
    """The node's log messages, whether it logs JSON lines or plain text."""
    out = []
    for line in log.splitlines():
        try:
            out.append(json.loads(line)["msg"])
        except (ValueError, KeyError, TypeError):
            out.append(line)
    return out


def _leaders_seen_while_stopping(log: str) -> list[tuple[int, int]]:
    """(leader, term) of the leader changes the node logged after it began to stop (leader 0: unknown)."""
    messages = _messages(log)
    start = max(i for i, m in enumerate(messages) if m.endswith("stopping"))
    found = (LEADER_LINE.search(m) for m in messages[start:])
    return [(int(f[1]) if f[1].isdigit() else 0, int(f[2])) for f in found if f]


def test_sigterm_to_leader_hands_over_and_finishes_writes(cluster: LocalCluster):
    writers = [Writer(cluster.endpoints(), prefix=f"w{k}/", timeout=10.0) for k in range(3)]
    for w in writers:
        w.start()
    try:
        for w in writers:
            w.wait_acked(20)
        leader = cluster.wait_for_leader(WAIT_S)
        old_term = cluster.node_status(leader)["term"]
        assert cluster.stop(leader) == 0, cluster.log_tail(leader)
        new_leader = cluster.wait_for_leader(WAIT_S, exclude=leader)
        for w in writers:
            w.wait_acked(20)
    finally:
        for w in writers:
            w.stop()

    new_term = cluster.node_status(new_leader)["term"]
    assert new_term > old_term
    # The old leader stepped down to a newer term before it exited (it may exit before it hears who won):
    # a handover, not a crash.
    seen = _leaders_seen_while_stopping(cluster.log_file(leader).read_text())
    assert any(n != leader and t > old_term for n, t in seen), cluster.log_tail(leader)
    for w in writers:
        assert not w.failed, f"writes failed across a graceful stop: {w.failed[:5]}"
    with Client(cluster.endpoints()) as client:
        for w in writers:
            w.check(client)
