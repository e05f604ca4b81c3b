"""Fixtures of the integration tests: real ``tandem start`` processes on loopback, killed at teardown whatever
happened. A failing test prints the end of every node's log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # ``import integration_harness`` whatever the import mode

from integration_harness import FAST, start_cluster
from tandemdb.tools.local_cluster import LocalCluster

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if outcome.get_result().failed:
        item.stash[_FAILED] = True


def _dump_logs(request: pytest.FixtureRequest, cluster: LocalCluster) -> None:
    if request.node.stash.get(_FAILED, False):
        for node_id in cluster.nodes:
            print(f"--- node {node_id} ({cluster.log_file(node_id)}) ---\n{cluster.log_tail(node_id, 40)}")


@pytest.fixture
def make_cluster(tmp_path: Path, request: pytest.FixtureRequest):
    """``make_cluster(name, nodes=3, start=True)``: a new cluster under tmp_path, started and with a leader."""
    clusters: list[LocalCluster] = []

    def make(name: str = "cluster", nodes: int = 3, *, start: bool = True) -> LocalCluster:
        cluster = LocalCluster.create(tmp_path / name, nodes, timing=FAST)
        clusters.append(cluster)
        if start:
            start_cluster(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.kill_all()
        _dump_logs(request, cluster)


@pytest.fixture
def cluster(make_cluster) -> LocalCluster:
    return make_cluster()
