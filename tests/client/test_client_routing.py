"""Endpoint choice: leader redirects, failover past dead endpoints and retryable errors."""

from __future__ import annotations

import pytest

from fake_node import FakeCluster, async_test, free_port
from tandemdb.client import AsyncClient, ClusterUnavailableError
from tandemdb.kv.commands import Put
from tandemdb.wire.client_api import Error, ErrorKind


@async_test
async def test_redirect_to_a_leader_missing_from_the_endpoint_list():
    cluster = FakeCluster(3)
    leader, _, follower = cluster.nodes
    await cluster.start()
    async with AsyncClient([follower.endpoint]) as client:
        await client.put("k", "v")
        assert (await client.get("k")).kvs[0].value == b"v"
    assert [type(r.op) for r in follower.requests] == [Put]  # redirected once, then the leader served
    assert len(leader.requests) == 2
    await cluster.stop()


@async_test
async def test_dead_endpoints_are_skipped():
    cluster = FakeCluster(1)
    await cluster.start()
    dead = f"127.0.0.1:{free_port()}"
    async with AsyncClient([dead, cluster.nodes[0].endpoint]) as client:
        assert (await client.put("k", "v")).revision == 1
    await cluster.stop()


@async_test
async def test_retryable_errors_are_retried():
    cluster = FakeCluster(1)
    await cluster.start()
    node = cluster.nodes[0]
    node.fail_next(Error(ErrorKind.NO_LEADER, "election"), Error(ErrorKind.NOT_LEADER, "unknown leader"), "drop")
    async with AsyncClient(cluster.endpoints) as client:
        assert (await client.get("missing")).kvs == []
    assert len(node.requests) == 4
    await cluster.stop()


@async_test
async def test_nothing_answering_raises_cluster_unavailable_naming_the_endpoints():
    dead = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    async with AsyncClient(dead, timeout=0.3, connect_timeout=0.1) as client:
        with pytest.raises(ClusterUnavailableError) as info:
            await client.get("k")
    assert all(endpoint in str(info.value) for endpoint in dead)
    assert info.value.kind == "unavailable"


def test_endpoints_are_parsed():
    client = AsyncClient(" 127.0.0.1:2379, [::1]:2479 ,")
    assert client.endpoints == ["127.0.0.1:2379", "[::1]:2479"]
    for bad in ("", "localhost", "host:port", "host:70000"):
        with pytest.raises(ValueError):
            AsyncClient(bad)
