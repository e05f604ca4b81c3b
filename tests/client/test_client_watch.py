"""Watches: history from a revision, cancellation, compaction, and resumption across a node failure."""

from __future__ import annotations

import asyncio

from fake_node import FakeCluster, async_test
from tandemdb.client import AsyncClient
from tandemdb.kv.commands import Put


async def collect(watch, until_revision: int) -> list:
    events = []
    async for batch in watch:
        events += batch.events
        if events and events[-1].kv.mod_revision >= until_revision:
            return events
    raise AssertionError("the watch ended early")


@async_test
async def test_watch_from_a_revision_then_cancel():
    cluster = FakeCluster(1)
    await cluster.start()
    async with AsyncClient(cluster.endpoints) as client:
        for i in range(3):
            await client.put(f"a/{i}", "v")
        watch = client.watch("a/", prefix=True, start_revision=2)
        first = await anext(watch)
        assert first.created
        events = await collect(watch, 3)
        assert [e.kv.key for e in events] == [b"a/1", b"a/2"]
        await client.put("b", "not watched")
        await client.put("a/3", "v")
        assert [e.kv.key for e in (await anext(watch)).events] == [b"a/3"]
        await watch.cancel()
        assert await anext(watch, None) is None
        while cluster.store.watchers:  # the node got the cancel
            await asyncio.sleep(0.01)
    await cluster.stop()


@async_test
async def test_watch_of_a_compacted_revision_is_canceled():
    cluster = FakeCluster(1)
    await cluster.start()
    async with AsyncClient(cluster.endpoints) as client:
        for i in range(3):
            await client.put("k", str(i))
        await client.compact(2)
        batches = [batch async for batch in client.watch("k", start_revision=1)]
    assert len(batches) == 1 and batches[0].canceled and batches[0].compact_revision == 2
    await cluster.stop()


@async_test
async def test_watch_resumes_on_another_node_without_gap_or_duplicate():
    cluster = FakeCluster(2)
    await cluster.start()
    first, second = cluster.nodes
    second.redirect_to = ""  # it takes over as the leader
    second.replay_watches = True  # it sends old events again: the client must drop them
    async with AsyncClient(cluster.endpoints) as client:
        watch = client.watch("k/", prefix=True)
        assert (await anext(watch)).created
        await client.put("k/1", "v")
        await client.put("k/2", "v")
        delivered = await collect(watch, 2)

        await first.stop()
        cluster.store.apply(Put(b"k/3", b"while nobody watched"))
        delivered += await collect(watch, 3)
        await client.put("k/4", "v")
        delivered += await collect(watch, 4)
        await watch.cancel()
    assert [e.kv.mod_revision for e in delivered] == [1, 2, 3, 4]
    assert [e.kv.key for e in delivered] == [b"k/1", b"k/2", b"k/3", b"k/4"]
    await cluster.stop()


@async_test
async def test_closing_the_client_ends_its_watches():
    cluster = FakeCluster(1)
    await cluster.start()
    client = AsyncClient(cluster.endpoints)
    watch = client.watch("k")
    await anext(watch)
    pending = asyncio.ensure_future(anext(watch, None))
    await client.close()
    assert await pending is None
    await cluster.stop()
