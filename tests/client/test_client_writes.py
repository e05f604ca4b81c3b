"""Idempotent writes: a retry reuses the write's (client_id, seq); one client id never has two writes in flight."""

from __future__ import annotations

import asyncio

import pytest

from fake_node import FakeCluster, async_test
from tandemdb.client import AsyncClient, RequestTimeoutError
from tandemdb.kv.commands import Put
from tandemdb.wire.client_api import Error, ErrorKind

TIMEOUT = Error(ErrorKind.TIMEOUT, "no commit in time")


def pairs(node) -> list[tuple[int, int]]:
    return [(r.client_id, r.seq) for r in node.requests if isinstance(r.op, Put)]


@pytest.mark.parametrize("fault", ["drop", "drop_after_apply", TIMEOUT])
@async_test
async def test_a_retried_write_keeps_its_pair_and_applies_once(fault):
    cluster = FakeCluster(1)
    await cluster.start()
    node = cluster.nodes[0]
    node.fail_next(fault)
    async with AsyncClient(cluster.endpoints) as client:
        result = await client.put("k", "v")
        got = await client.get("k")
    first, retry = pairs(node)
    assert first == retry and first[0] != 0
    assert result.revision == 1 and got.revision == 1 and got.kvs[0].version == 1
    await cluster.stop()


@async_test
async def test_writes_of_one_client_take_the_next_seq():
    cluster = FakeCluster(1)
    await cluster.start()
    async with AsyncClient(cluster.endpoints) as client:
        for i in range(3):
            await client.put("k", str(i))
        await client.delete("k")
    client_ids = {c for c, _ in pairs(cluster.nodes[0])}
    assert len(client_ids) == 1
    assert [r.seq for r in cluster.nodes[0].requests] == [1, 2, 3, 4]
    await cluster.stop()


@async_test
async def test_concurrent_writes_never_share_a_client_id():
    cluster = FakeCluster(1)
    await cluster.start()
    node = cluster.nodes[0]
    node.hold = asyncio.Event()
    async with AsyncClient(cluster.endpoints) as client:
        writes = [asyncio.create_task(client.put(f"k{i}", "v")) for i in range(20)]
        while sum(node.outstanding.values()) < 20:
            await asyncio.sleep(0.01)
        node.hold.set()
        await asyncio.gather(*writes)
        await asyncio.gather(*(client.put(f"k{i}", "w") for i in range(20)))  # sessions go back to the pool
    assert node.overlaps == 0
    assert len({c for c, _ in pairs(node)}) == 20
    assert cluster.store.kv.revision == 40
    await cluster.stop()


@async_test
async def test_a_write_of_unknown_outcome_retires_its_session():
    cluster = FakeCluster(1)
    await cluster.start()
    node = cluster.nodes[0]
    node.fail_next(*[TIMEOUT] * 1000)
    async with AsyncClient(cluster.endpoints, timeout=0.3) as client:
        with pytest.raises(RequestTimeoutError):
            await client.put("k", "v")
        node.clear_faults()
        await client.put("k", "v2")
    timed_out, later = pairs(node)[0], pairs(node)[-1]
    assert later[0] != timed_out[0]
    await cluster.stop()


@async_test
async def test_requests_of_one_loop_turn_go_out_in_one_socket_write():
    cluster = FakeCluster(1)
    await cluster.start()
    async with AsyncClient(cluster.endpoints) as client:
        await client.put("warm", "up")  # connects
        conn = next(iter(client._cluster._conns.values())).result()
        writes: list[bytes] = []
        write = conn._writer.write
        conn._writer.write = lambda data: (writes.append(data), write(data))[1]
        results = await asyncio.gather(*(client.put(f"k{i}", "v") for i in range(20)))
    assert len(writes) == 1
    assert sorted(r.revision for r in results) == list(range(2, 22))
    await cluster.stop()
