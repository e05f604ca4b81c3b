"""The node core follows a traced request's entry through the cluster as trace points (``node/tracing.py``),
without a clock: the leader notes it proposed, persisted, sent to and acknowledged by each follower, committed
and applied; each follower notes it received, persisted, committed and applied. With tracing off, nothing."""

from __future__ import annotations

from tandemdb.kv import Put, PutResult

from .cluster import Cluster

TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _recording(c: Cluster) -> tuple[dict[int, list], list]:
    """Every node's trace points (node -> [(step, peer)]) and every peer message, from the nodes' outputs."""
    seen: dict[int, list] = {i: [] for i in c.nodes}
    sent: list = []
    for node_id, node in c.nodes.items():
        drain = node.drain

        def recorded(node_id=node_id, drain=drain):
            out = drain()
            seen[node_id] += [(p.step, p.peer) for p in out.traces if p.traceparent == TP]
            sent.extend(gm for msgs in out.messages.values() for gm in msgs)
            return out

        node.drain = recorded
    return seen, sent


def test_a_traced_write_is_followed_on_the_leader_and_every_follower() -> None:
    c = Cluster()
    lead = c.leader()
    c.tick(30)  # members publish their addresses: the log is quiet again
    for node in c.nodes.values():
        node.tracing = True
    seen, _ = _recording(c)
    assert isinstance(c.call(lead, Put(b"k", b"v"), traceparent=TP), PutResult)
    c.tick(5)  # followers learn the commit index from the next heartbeat
    followers = sorted(set(c.nodes) - {lead})
    steps = [step for step, _ in seen[lead]]
    assert steps[:2] == ["proposed", "persist"] and steps[-1] in ("applied", "acked")
    assert sorted(peer for step, peer in seen[lead] if step == "sent") == followers
    assert sorted(peer for step, peer in seen[lead] if step == "acked") == followers
    assert steps.index("committed") < steps.index("applied")
    for f in followers:
        assert [step for step, _ in seen[f]] == ["received", "persist", "durable", "committed", "applied"]
        assert seen[f][0] == ("received", lead)
    for node in c.nodes.values():  # done with the entry everywhere: nothing kept
        assert not node.groups[1].traces.entries


def test_with_tracing_off_a_traceparent_costs_nothing() -> None:
    c = Cluster()
    lead = c.leader()
    seen, sent = _recording(c)
    assert isinstance(c.call(lead, Put(b"k", b"v"), traceparent=TP), PutResult)
    c.tick(5)
    assert all(not points for points in seen.values())
    assert sent and all(gm.traces is None for gm in sent)
