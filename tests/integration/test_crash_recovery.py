"""Nodes killed with SIGKILL: the cluster serves again, loses no acknowledged write, and a restarted node
catches up from its own data directory."""

from __future__ import annotations

from integration_harness import WAIT_S, Writer, key, start_cluster
from tandemdb.client import Client
from tandemdb.tools.local_cluster import LocalCluster


def test_leader_killed_then_restarted_catches_up(cluster: LocalCluster):
    writer = Writer(cluster.endpoints())
    writer.start()
    try:
        writer.wait_acked(20)
        old_leader = cluster.wait_for_leader(WAIT_S)
        cluster.kill(old_leader)
        writer.wait_acked(20)  # the cluster accepts writes again, under a new leader

        cluster.start(old_leader)
        writer.wait_acked(10)
    finally:
        writer.stop()

    with Client(cluster.endpoints()) as client:
        writer.check(client)
        leader = cluster.wait_for_leader(WAIT_S)
        commit = cluster.node_status(leader)["commit_index"]
    cluster.wait_applied(old_leader, commit, WAIT_S)
    last = key(writer.prefix, writer.acked[-1])
    with Client([cluster.nodes[old_leader].client]) as local:
        kvs = local.get(last, serializable=True).kvs
    assert [kv.value for kv in kvs] == [str(writer.acked[-1]).encode()]


def test_whole_cluster_killed_at_once_keeps_acknowledged_writes(cluster: LocalCluster):
    writer = Writer(cluster.endpoints())
    writer.start()
    try:
        writer.wait_acked(30)
        cluster.kill_all()  # SIGKILL to every node before waiting for any
        start_cluster(cluster)
        writer.wait_acked(20)
    finally:
        writer.stop()

    with Client(cluster.endpoints()) as client:
        writer.check(client)
