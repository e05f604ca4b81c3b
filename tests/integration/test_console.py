"""The web console in headless Chromium against a real three-process cluster: it shows three nodes and their
leader, and after the leader is killed it shows that node down and the new leader. The test saves a screenshot
(also copied into $TANDEM_ARTIFACTS if set). The nodes' JSON log lines carry node id, group and term."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from integration_harness import WAIT_S, wait_until
from tandemdb.client import Client

CHROMIUM = shutil.which("chromium")
_ROW = re.compile(r'<tr class="node" data-node="(\d+)" data-state="(\w+)" data-role="(\w*)"')


def _chromium(url: str, profile: Path, *args: str) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
           f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--window-size=1280,1100", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True).stdout


def _rows(url: str, profile: Path) -> dict[int, tuple[str, str]]:
    """node -> (state, role), as the rendered page shows them."""
    return {int(n): (state, role) for n, state, role in _ROW.findall(_chromium(url, profile, "--dump-dom"))}


def _cluster_view(http_url: str) -> dict:
    with urllib.request.urlopen(f"{http_url}/v1/console/cluster", timeout=5) as resp:
        return json.loads(resp.read())


def _write(cluster, prefix: str, count: int) -> None:
    with Client(cluster.endpoints()) as client:
        for i in range(count):
            client.put(f"{prefix}{i}", "v")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium; .ci/run installs it)")
def test_the_console_shows_the_cluster_and_follows_a_leader_kill(cluster, tmp_path) -> None:
    leader = cluster.wait_for_leader(WAIT_S)
    _write(cluster, "before/", 200)  # something for the charts
    viewer = next(i for i in cluster.nodes if i != leader)  # a node that stays up
    url = f"{cluster.nodes[viewer].http_url}/console/"
    assert _rows(url, tmp_path / "profile") == {
        i: ("up", "leader" if i == leader else "follower") for i in cluster.nodes
    }

    cluster.kill(leader)
    new_leader = cluster.wait_for_leader(WAIT_S, exclude=leader)
    _write(cluster, "after/", 200)

    def console_caught_up() -> bool:
        view = _cluster_view(cluster.nodes[viewer].http_url)
        states = {n["id"]: n["state"] for n in view["nodes"]}
        return states[leader] == "down" and view["groups"][0]["leader"] == new_leader

    wait_until(console_caught_up, "the console to see the kill")
    rows = _rows(url, tmp_path / "profile")
    assert rows[leader][0] == "down"
    assert [i for i, (state, role) in rows.items() if role == "leader"] == [new_leader]
    shot = tmp_path / "console-after-leader-kill.png"
    _chromium(url, tmp_path / "profile", f"--screenshot={shot}")
    assert shot.stat().st_size > 0
    if os.environ.get("TANDEM_ARTIFACTS"):
        shutil.copy(shot, Path(os.environ["TANDEM_ARTIFACTS"]) / shot.name)


def test_nodes_log_json_lines_with_node_group_and_term(cluster) -> None:
    leader = cluster.wait_for_leader(WAIT_S)

    def json_lines(node_id: int) -> list[dict]:
        text = cluster.log_file(node_id).read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def logged_election(node_id: int) -> bool:
        return any(line.get("event") == "leader" and line["group"] == 1 and line["term"] >= 1
                   and f"leader is node {leader}" in line["msg"] for line in json_lines(node_id))

    for node_id in cluster.nodes:
        wait_until(lambda node_id=node_id: logged_election(node_id), f"node {node_id} to log the election")
        assert all(line["node"] == node_id for line in json_lines(node_id))
