"""Replacing a member under load: add a learner, let it catch up, promote it, remove an old member, while a
writer keeps writing. No acknowledged write is lost and the new configuration serves."""

from __future__ import annotations

from integration_harness import WAIT_S, Writer, wait_until
from tandemdb.client import Client, TandemError
from tandemdb.tools.local_cluster import LocalCluster


def _try_promote(client: Client, node_id: int) -> bool:
    try:
        client.member_promote(node_id)
    except TandemError:
        return False  # refused until the learner has caught up
    return True


def _replace_member(cluster: LocalCluster, writer: Writer, removed: int) -> int:
    """Add node 4 as a learner, promote it, remove ``removed``; returns the new node's id."""
    with Client(cluster.endpoints(), timeout=10.0) as client:
        spec = cluster.add_node()
        added = client.member_add(spec.peer, learner=True, id=spec.id, client=spec.client, http=spec.http_url,
                                  region=spec.region, zone=spec.zone)
        assert added.member.id == spec.id
        assert any(m.member.id == spec.id and m.learner for m in added.members)
        cluster.start(spec.id)

        leader = cluster.wait_for_leader(WAIT_S)
        cluster.wait_applied(spec.id, cluster.node_status(leader)["commit_index"], WAIT_S)
        assert cluster.node_status(spec.id)["is_learner"]
        writer.wait_acked(10)

        wait_until(lambda: _try_promote(client, spec.id), "the learner's promotion", WAIT_S, interval=0.2)
        writer.wait_acked(10)
        client.member_remove(removed)
        writer.wait_acked(10)
        members = client.member_list().members
    assert sorted(m.member.id for m in members) == sorted(set(cluster.nodes) - {removed})
    assert not any(m.learner for m in members)
    return spec.id


def test_add_learner_promote_and_remove_under_load(cluster: LocalCluster):
    writer = Writer(cluster.endpoints())
    writer.start()
    removed = cluster.wait_for_leader(WAIT_S)  # replacing the leader is the harder case
    try:
        writer.wait_acked(20)
        new = _replace_member(cluster, writer, removed)
        cluster.stop(removed)
        cluster.remove_node(removed)
        leader = cluster.wait_for_leader(WAIT_S)
        assert leader != removed
        writer.wait_acked(20)
    finally:
        writer.stop()

    with Client(cluster.endpoints()) as client:
        writer.check(client)
        commit = cluster.node_status(leader)["commit_index"]
    st = cluster.wait_applied(new, commit, WAIT_S)
    assert not st["is_learner"]
