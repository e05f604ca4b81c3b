"""Error replies and rejected commands map to the client's exception types, and are not retried."""

from __future__ import annotations

import pytest

from fake_node import FakeCluster, async_test
from tandemdb.client import (
    AsyncClient,
    BadRequestError,
    CompactedError,
    KVError,
    NotFoundError,
    RequestTimeoutError,
    TandemError,
)
from tandemdb.kv.results import ErrorCode
from tandemdb.wire.client_api import Error, ErrorKind


@pytest.fixture
def cluster():
    return FakeCluster(1)


@async_test
async def test_bad_request_is_raised_without_retry(cluster):
    await cluster.start()
    node = cluster.nodes[0]
    node.fail_next(Error(ErrorKind.BAD_REQUEST, "key too weird"))
    async with AsyncClient(cluster.endpoints) as client:
        with pytest.raises(BadRequestError, match="key too weird") as info:
            await client.put("k", "v")
    assert info.value.kind == "bad_request" and node.endpoint in str(info.value)
    assert len(node.requests) == 1
    await cluster.stop()


@async_test
async def test_internal_error_is_raised_with_its_kind(cluster):
    await cluster.start()
    cluster.nodes[0].fail_next(Error(ErrorKind.INTERNAL, "oops"))
    async with AsyncClient(cluster.endpoints) as client:
        with pytest.raises(TandemError) as info:
            await client.get("k")
    assert info.value.kind == "internal"
    await cluster.stop()


@async_test
async def test_rejected_commands_raise_kv_errors(cluster):
    await cluster.start()
    async with AsyncClient(cluster.endpoints) as client:
        for i in range(3):
            await client.put("k", str(i))
        await client.compact(3)
        with pytest.raises(CompactedError) as compacted:
            await client.get("k", revision=1)
        with pytest.raises(KVError) as no_lease:
            await client.put("k", "v", lease=12345)
        with pytest.raises(NotFoundError):
            await client.member_remove(99)
    assert compacted.value.code == ErrorCode.COMPACTED and compacted.value.compact_revision == 3
    assert no_lease.value.code == ErrorCode.LEASE_NOT_FOUND and no_lease.value.kind == "kv"
    assert len([r for r in cluster.nodes[0].requests if r.op.__class__.__name__ == "Put"]) == 4
    await cluster.stop()


@async_test
async def test_timeouts_until_the_deadline_raise_request_timeout(cluster):
    await cluster.start()
    cluster.nodes[0].fail_next(*[Error(ErrorKind.TIMEOUT, "slow disk")] * 1000)
    async with AsyncClient(cluster.endpoints, timeout=0.3) as client:
        with pytest.raises(RequestTimeoutError, match="slow disk"):
            await client.get("k")
    await cluster.stop()


@async_test
async def test_refused_hello(cluster):
    await cluster.start()
    cluster.nodes[0].hello_error = Error(ErrorKind.BAD_REQUEST, "unsupported client version")
    async with AsyncClient(cluster.endpoints) as client:
        with pytest.raises(BadRequestError, match="unsupported client version"):
            await client.get("k")
    await cluster.stop()


@async_test
async def test_a_node_refusing_clients_for_now_is_skipped():
    cluster = FakeCluster(2)
    await cluster.start()
    cluster.nodes[1].redirect_to = ""
    cluster.nodes[0].hello_error = Error(ErrorKind.UNAVAILABLE, "stopping")
    async with AsyncClient(cluster.endpoints) as client:
        assert (await client.put("k", "v")).revision == 1
    await cluster.stop()


@async_test
async def test_a_closed_client_refuses_calls(cluster):
    await cluster.start()
    client = AsyncClient(cluster.endpoints)
    await client.put("k", "v")
    await client.close()
    with pytest.raises(TandemError, match="closed"):
        await client.get("k")
    await cluster.stop()
