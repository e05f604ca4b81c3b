"""The blocking facade: same calls, errors and watches, from a thread without an event loop."""

from __future__ import annotations

import pytest

from fake_node import Background, FakeCluster
from tandemdb.client import Client, KVError
from tandemdb.kv.commands import Compare, Put, Range


@pytest.fixture
def cluster():
    background = Background()
    cluster = FakeCluster(3)
    background.run(cluster.start())
    yield cluster
    background.run(cluster.stop())
    background.close()


def test_blocking_calls(cluster):
    with Client(",".join(cluster.endpoints[::-1])) as client:
        assert client.put("k", b"\x00\xff").revision == 1
        assert client.get("k").kvs[0].value == b"\x00\xff"
        txn = client.txn([Compare(b"k", "version", "==", 1)], [Put(b"k", b"2"), Range(b"k")], [])
        assert txn.succeeded and txn.responses[1].kvs[0].value == b"2"
        lease = client.lease_grant(30)
        assert client.lease_list().ids == [lease.id]
        with pytest.raises(KVError):
            client.lease_revoke(lease.id + 1)
        assert client.status(cluster.endpoints[0]).is_leader


def test_blocking_watch(cluster):
    with Client(cluster.endpoints) as client:
        watch = client.watch("k", prev_kv=True)
        assert next(watch).created
        client.put("k", "1")
        client.put("k", "2")
        events = next(watch).events + next(watch).events
        assert [(e.kv.value, e.prev_kv and e.prev_kv.value) for e in events] == [(b"1", None), (b"2", b"1")]
        watch.cancel()
        assert list(watch) == []
