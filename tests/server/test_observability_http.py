"""``/metrics``, ``/livez`` and ``/readyz`` on real in-process servers, and the deploy/ files: every metric that
the Grafana dashboard and the Prometheus alerts use is served."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
import yaml
from prometheus_client.parser import text_string_to_metric_families

from inproc_cluster import cluster_configs, running_cluster, settled
from tandemdb.kv import Put, Range
from tandemdb.server.server import Server

DEPLOY = Path(__file__).parents[2] / "deploy"
REQUIRED = {
    "tandem_server_has_leader", "tandem_server_leader_changes_seen", "tandem_server_proposals_committed",
    "tandem_server_proposals_applied", "tandem_server_proposals_pending", "tandem_server_proposals_failed",
    "tandem_disk_wal_fsync_duration_seconds", "tandem_disk_wal_records_per_sync",
    "tandem_server_apply_duration_seconds", "tandem_network_peer_round_trip_time_seconds",
    "tandem_network_peer_sent_bytes", "tandem_network_peer_received_bytes", "tandem_server_requests",
    "tandem_server_request_duration_seconds", "tandem_raft_term", "tandem_raft_commit_index",
    "tandem_raft_applied_index", "tandem_snapshot_saved", "tandem_snapshot_installed",
    "tandem_snapshot_save_duration_seconds", "tandem_mvcc_keys", "tandem_mvcc_db_size_bytes",
    "tandem_disk_data_size_bytes",
}


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(family, **labels) -> float:
    return sum(s.value for s in family.samples if s.name == family.name + ("_total" if family.type == "counter" else "")
               and all(s.labels.get(k) == v for k, v in labels.items()))


async def _scrape_after_traffic(tmp_path) -> tuple[int, dict[int, dict]]:
    async with running_cluster(tmp_path) as servers:
        leader = await settled(servers)
        for i in range(20):
            await leader.gateway.call(Put(f"k{i}".encode(), b"v"))
        await leader.gateway.call(Range(b"k0"))
        for _ in range(300):  # until every node has pinged every peer
            if all(len(s.obs.probe.last_rtt) == 2 for s in servers.values()):
                break
            await asyncio.sleep(0.02)
        texts = {i: (await _get(f"http://{s.cfg.listen_http}/metrics"))[1] for i, s in servers.items()}
        return leader.cfg.node.id, {i: _families(t) for i, t in texts.items()}


def test_metrics_of_a_cluster(tmp_path) -> None:
    leader, scraped = asyncio.run(_scrape_after_traffic(tmp_path))
    for node_id, fams in scraped.items():
        assert REQUIRED <= set(fams), REQUIRED - set(fams)
        assert _value(fams["tandem_server_has_leader"], group="1") == 1
        assert _value(fams["tandem_raft_commit_index"], group="1") >= 20
        peers = {s.labels["peer"] for s in fams["tandem_network_peer_round_trip_time_seconds"].samples}
        assert peers == {str(i) for i in scraped if i != node_id}
        assert all(_value(fams["tandem_network_peer_sent_bytes"], peer=p) > 0 for p in peers)
    fams = scraped[leader]
    assert _value(fams["tandem_server_requests"], op="put", result="ok") >= 20
    assert _value(fams["tandem_server_requests"], op="range", result="ok") >= 1
    assert _value(fams["tandem_mvcc_keys"], group="1") >= 20
    fsyncs = [s for s in fams["tandem_disk_wal_fsync_duration_seconds"].samples if s.name.endswith("_count")]
    assert fsyncs[0].value > 0


def test_livez_and_readyz(tmp_path) -> None:
    async def scenario() -> None:
        async with running_cluster(tmp_path) as servers:
            await settled(servers)
            for server in servers.values():
                url = f"http://{server.cfg.listen_http}"
                assert await _get(f"{url}/livez") == (200, '{"live": true}')
                assert await _get(f"{url}/readyz") == (200, '{"ready": true}')

    asyncio.run(scenario())


def test_readyz_without_a_leader(tmp_path) -> None:
    async def scenario() -> None:
        server = Server(cluster_configs(tmp_path, 3)[1])  # alone of three: no quorum, no leader
        await server.start()
        try:
            url = f"http://{server.cfg.listen_http}"
            assert (await _get(f"{url}/livez"))[0] == 200
            status, body = await _get(f"{url}/readyz")
            assert status == 503 and json.loads(body) == {"ready": False, "reason": "group 1 has no leader"}
        finally:
            await server.stop()

    asyncio.run(scenario())


def _metric_names(expr: str) -> set[str]:
    return {re.sub(r"_(bucket|sum|count|total)$", "", name) for name in re.findall(r"\btandem_[a-z0-9_]+", expr)}


def test_the_dashboard_and_alerts_use_only_served_metrics(tmp_path) -> None:
    served = set(_families(asyncio.run(_one_scrape(tmp_path))))
    dashboard = json.loads((DEPLOY / "grafana" / "tandem.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    alerts = {r["alert"]: r["expr"] for r in rules}
    assert {"TandemNoLeader", "TandemFrequentLeaderChanges", "TandemSlowFsync", "TandemSlowPeer",
            "TandemFollowerLagging"} <= set(alerts)
    used = set().union(*map(_metric_names, exprs + list(alerts.values())))
    assert used and used <= served, used - served


async def _one_scrape(tmp_path) -> str:
    async with running_cluster(tmp_path, size=1) as servers:
        return (await _get(f"http://{servers[1].cfg.listen_http}/metrics"))[1]
