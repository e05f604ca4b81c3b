"""Fail-stop: an exception inside the node core stops that node's process, loudly and with a non-zero exit,
while the others keep serving and nothing acknowledged is lost (``Server._core``)."""

from __future__ import annotations

import json

from integration_harness import WAIT_S, Writer, wait_until
from tandemdb.chaos.cluster import ChaosCluster
from tandemdb.chaos.net import LoopbackNet
from tandemdb.client import Client


def test_an_exception_in_apply_stops_the_node_and_the_cluster_serves_on(tmp_path) -> None:
    with ChaosCluster.build(tmp_path / "c", 3, LoopbackNet()) as cluster:
        cluster.start_all()
        leader = cluster.wait_for_leader(WAIT_S)
        victim = next(i for i in cluster.nodes if i != leader)
        writer = Writer(cluster.endpoints())
        writer.start()
        try:
            writer.wait_acked(20)
            # The victim's state machine raises on its next apply (a debug-only fault, read from its fault file).
            cluster.fault_file(victim).write_text(json.dumps({"fail_apply": True}))
            code = wait_until(lambda: cluster.returncode(victim), f"node {victim} to exit", WAIT_S)
            writer.wait_acked(20)  # the other two go on serving
        finally:
            writer.stop()
        assert code == 3
        log = cluster.log_tail(victim, 200)
        assert "the node core failed (RuntimeError: debug fault: apply of" in log
        assert f"Error: node {victim} stopped: the node core failed" in log
        assert [i for i in cluster.nodes if cluster.running(i)] == sorted(set(cluster.nodes) - {victim})
        with Client(cluster.endpoints(), timeout=10) as client:
            writer.check(client)
