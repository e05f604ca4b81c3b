"""A watch survives the loss of the leader it was opened on: every revision arrives once, in order."""

from __future__ import annotations

import asyncio
import itertools

from integration_harness import WAIT_S, key
from tandemdb.client import AsyncClient, TandemError
from tandemdb.tools.local_cluster import LocalCluster

PREFIX = "w/"


async def _write(client: AsyncClient, count: int, start: int) -> list[bytes]:
    """The keys whose put was acknowledged; a failed put may have been applied or not."""
    acked = []
    for i in range(start, start + count):
        try:
            await client.put(key(PREFIX, i), str(i))
        except TandemError:
            continue
        acked.append(key(PREFIX, i).encode())
    return acked


async def _scenario(cluster: LocalCluster) -> tuple[list[tuple[bytes, int]], list[tuple[bytes, int]], list[bytes]]:
    async with AsyncClient(cluster.endpoints(), timeout=10.0) as client:
        await client.put("before", "x")  # the client now talks to the leader, so the watch opens there
        leader = await asyncio.to_thread(cluster.wait_for_leader, WAIT_S)
        watch = client.watch(PREFIX, prefix=True)
        created = await anext(watch)
        assert created.created
        seen: list[tuple[bytes, int]] = []

        async def consume() -> None:
            async for batch in watch:
                seen.extend((e.kv.key, e.kv.mod_revision) for e in batch.events)

        consumer = asyncio.create_task(consume())
        before = await _write(client, 30, 1)
        await asyncio.to_thread(cluster.kill, leader)
        after = await _write(client, 30, 31)
        assert after, "no write was acknowledged after the leader was killed"
        final = await client.get(PREFIX, prefix=True)
        expected = sorted(((kv.key, kv.mod_revision) for kv in final.kvs), key=lambda e: e[1])
        async with asyncio.timeout(WAIT_S):
            while expected and (not seen or seen[-1][1] < expected[-1][1]):
                await asyncio.sleep(0.05)
        await watch.cancel()
        consumer.cancel()
        return seen, expected, before + after


def test_watch_across_leader_kill_has_no_gap_or_duplicate(cluster: LocalCluster):
    seen, expected, acked = asyncio.run(_scenario(cluster))
    assert set(acked) <= {k for k, _ in expected}, "an acknowledged write is lost"
    revisions = [rev for _, rev in seen]
    assert revisions == sorted(set(revisions)), "events out of order or duplicated"
    assert seen == expected
    assert all(b - a == 1 for a, b in itertools.pairwise(revisions)), "a revision is missing"
