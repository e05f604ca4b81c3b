"""Leases on a real cluster: a lease nobody keeps alive expires and takes its keys; keep-alives keep it."""

from __future__ import annotations

import time

from integration_harness import WAIT_S, wait_until
from tandemdb.client import Client
from tandemdb.tools.local_cluster import LocalCluster

TTL_S = 2


def lease_gone(client: Client, lease: int) -> bool:
    return client.lease_ttl(lease).ttl_s == -1  # as etcd: -1 for a lease that no longer exists


def test_lease_expires_unless_kept_alive(cluster: LocalCluster):
    with Client(cluster.endpoints()) as client:
        dropped = client.lease_grant(TTL_S).id
        kept = client.lease_grant(TTL_S).id
        client.put("lease/dropped", "x", lease=dropped)
        client.put("lease/kept", "y", lease=kept)
        granted = time.monotonic()

        def dropped_gone() -> bool:
            client.lease_keepalive(kept)
            return not client.get("lease/dropped").kvs

        wait_until(dropped_gone, "the key of the expired lease to go", WAIT_S, interval=0.3)
        # The kept lease outlived the other and stays, as long as keep-alives come, for more than its TTL.
        while time.monotonic() - granted < 2 * TTL_S + 1:
            assert client.lease_keepalive(kept).ttl_s > 0
            assert client.get("lease/kept").kvs, "a kept-alive lease expired"
            time.sleep(0.3)
        assert lease_gone(client, dropped)

        # Left alone, it expires too.
        wait_until(lambda: not client.get("lease/kept").kvs, "the key of the abandoned lease to go", WAIT_S, 0.2)
        assert lease_gone(client, kept)
