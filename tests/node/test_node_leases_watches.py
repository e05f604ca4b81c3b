"""Leases timed by the leader alone, and watches served from each node's applied state."""

from __future__ import annotations

from tandemdb.kv import Compact, ErrorCode, ErrorResult, LeaseGrant, Put, Range
from tandemdb.wire.client_api import (
    Error,
    ErrorKind,
    LeaseKeepAlive,
    LeaseTimeToLive,
    LeaseTTLResult,
    WatchCancel,
    WatchCreate,
    WatchEvents,
)

from .cluster import Cluster

TICKS_PER_S = 10  # tick_ms = 100


def test_a_lease_not_kept_alive_expires_and_its_keys_go_everywhere() -> None:
    c = Cluster()
    lead = c.leader()
    c.call(lead, LeaseGrant(5, 2))
    c.call(lead, Put(b"ephemeral", b"v", lease=5))
    c.tick(2 * TICKS_PER_S + 5)
    c.settle()
    for node_id in c.nodes:
        assert c.call(node_id, Range(b"ephemeral"), serializable=True).kvs == []


def test_keep_alive_on_the_leader_keeps_the_lease() -> None:
    c = Cluster()
    lead = c.leader()
    c.call(lead, LeaseGrant(5, 2))
    c.call(lead, Put(b"k", b"v", lease=5))
    for _ in range(6):
        c.tick(TICKS_PER_S)
        ttl = c.call(lead, LeaseKeepAlive(5))
        assert isinstance(ttl, LeaseTTLResult) and ttl.ttl_s == 2
    assert c.call(lead, Range(b"k")).kvs
    left = c.call(lead, LeaseTimeToLive(5, keys=True))
    assert left.keys == [b"k"] and 0 < left.ttl_s <= 2


def test_followers_never_expire_leases_and_refer_keep_alives_to_the_leader() -> None:
    c = Cluster()
    lead = c.leader()
    c.tick(30)
    c.call(lead, LeaseGrant(5, 1))
    c.call(lead, Put(b"k", b"v", lease=5))
    c.isolate(lead)  # the leader can no longer commit the revoke; nobody else may expire the lease on its own
    follower = next(i for i in c.nodes if i != lead)
    reply = c.call(follower, LeaseKeepAlive(5))
    assert isinstance(reply, Error) and reply.kind in (ErrorKind.NOT_LEADER, ErrorKind.NO_LEADER)
    c.tick(3)
    assert c.call(follower, Range(b"k"), serializable=True).kvs


def test_a_new_leader_gives_leases_a_full_ttl_then_expires_them() -> None:
    c = Cluster()
    old = c.leader()
    c.call(old, LeaseGrant(5, 3))
    c.call(old, Put(b"k", b"v", lease=5))
    c.settle()
    c.isolate(old)
    new = c.wait_leader_except(old)
    assert c.call(new, Range(b"k"), serializable=True).kvs  # a leader change does not revoke early
    c.tick(3 * TICKS_PER_S + 5)
    c.settle()
    assert c.call(new, Range(b"k")).kvs == []


def _events(c: Cluster, conn: int, watch_id: int) -> list[WatchEvents]:
    return [r for rid, r in c.replies[conn] if rid == watch_id and isinstance(r, WatchEvents)]


def test_a_watch_on_a_follower_sees_every_change_in_order() -> None:
    c = Cluster()
    lead = c.leader()
    follower = next(i for i in c.nodes if i != lead)
    wid = c.send(follower, WatchCreate(b"a", b"b"), conn=9)
    c.step()
    for i in range(5):
        c.call(lead, Put(b"a%d" % i, b"v"))
    c.call(lead, Put(b"zzz", b"outside"))
    c.settle()
    got = _events(c, 9, wid)
    assert got[0].created
    keys = [e.kv.key for batch in got for e in batch.events]
    revisions = [e.kv.mod_revision for batch in got for e in batch.events]
    assert keys == [b"a%d" % i for i in range(5)]
    assert revisions == sorted(revisions) and len(set(revisions)) == 5
    c.send(follower, WatchCancel(wid), conn=9)
    c.step()
    assert _events(c, 9, wid)[-1].canceled


def test_a_watch_from_an_old_revision_replays_history_and_a_compacted_one_is_refused() -> None:
    c = Cluster()
    lead = c.leader()
    for i in range(4):
        c.call(lead, Put(b"k", b"%d" % i))
    wid = c.send(lead, WatchCreate(b"k", start_revision=2, prev_kv=True), conn=5)
    c.step()
    history = [e for batch in _events(c, 5, wid) for e in batch.events]
    assert [e.kv.value for e in history] == [b"1", b"2", b"3"]
    assert history[0].prev_kv.value == b"0"
    c.call(lead, Compact(3))
    wid = c.send(lead, WatchCreate(b"k", start_revision=2), conn=6)
    c.step()
    (refused,) = _events(c, 6, wid)
    assert refused.canceled and refused.compact_revision == 3


def test_a_follower_that_installs_a_snapshot_resumes_its_watches_without_a_gap() -> None:
    c = Cluster(snapshot_every=20, keep_entries=5)
    lead = c.leader()
    follower = next(i for i in c.nodes if i != lead)
    wid = c.send(follower, WatchCreate(b"k", b"l"), conn=4)
    c.step()
    c.down.add(follower)  # it misses enough entries that the leader must send a snapshot
    for i in range(60):
        c.call(lead, Put(b"k%02d" % i, b"v"))
    c.down.discard(follower)
    c.tick(30)
    assert c.nodes[follower].groups[1].snapshot_index > 0  # it did install a snapshot
    keys = [e.kv.key for batch in _events(c, 4, wid) for e in batch.events]
    assert keys == [b"k%02d" % i for i in range(60)]


def test_time_to_live_of_a_missing_lease_is_minus_one_and_keep_alive_is_not_found() -> None:
    c = Cluster()
    lead = c.leader()
    assert c.call(lead, LeaseTimeToLive(42)).ttl_s == -1
    missing = c.call(lead, LeaseKeepAlive(42))
    assert isinstance(missing, ErrorResult) and missing.code == ErrorCode.LEASE_NOT_FOUND


def _clients(c: Cluster) -> dict[int, int]:
    return {i: len(n.groups[1].sessions) for i, n in c.nodes.items()}


def test_idle_clients_are_forgotten_everywhere_through_leader_sweeps() -> None:
    c = Cluster(session_ttl_s=2)  # a sweep every second (10 ticks)
    lead = c.leader()
    c.call(lead, Put(b"idle", b"v"), client_id=1, seq=1)
    for seq in range(1, 8):  # client 2 writes every half second for 3.5 s
        c.call(lead, Put(b"busy", b"v"), client_id=2, seq=seq)
        c.tick(TICKS_PER_S // 2)
    c.settle()
    assert _clients(c) == {1: 1, 2: 1, 3: 1}  # client 1 (idle for 3.5 s) is gone, client 2 is not
    retry = c.call(lead, Put(b"busy", b"v"), client_id=2, seq=7)
    assert retry.revision == 8  # the retry of client 2's last write is still answered from its record
    c.tick(4 * TICKS_PER_S)
    c.settle()
    assert _clients(c) == {1: 0, 2: 0, 3: 0}


def test_a_new_leader_sweeps_only_a_full_period_after_its_election() -> None:
    c = Cluster(session_ttl_s=2)
    lead = c.leader()
    c.call(lead, Put(b"k", b"v"), client_id=1, seq=1)
    c.tick(TICKS_PER_S + 2)  # one sweep so far
    c.isolate(lead)
    new = c.wait_leader_except(lead)
    sweeps_before = c.nodes[new].groups[1].sessions.snapshot()
    c.tick(TICKS_PER_S - 3)  # less than a period after the election: no sweep from the new leader yet
    c.settle()
    assert c.nodes[new].groups[1].sessions.snapshot() == sweeps_before
    c.tick(3 * TICKS_PER_S)
    c.settle()
    assert len(c.nodes[new].groups[1].sessions) == 0
