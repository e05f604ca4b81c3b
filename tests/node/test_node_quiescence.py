"""Quiescence: an idle group stops ticking and sending (a node with many idle groups costs what one does), and
wakes on a request, a message, its leader's node going silent, or a due session sweep; groups are created at
run time."""

from __future__ import annotations

from tandemdb.counter import CounterAdd, CounterGet
from tandemdb.kv import LeaseGrant, Put, PutResult, Range
from tandemdb.node.node import LIVENESS_GROUP
from tandemdb.wire.client_api import GroupCreate, GroupRemove, OkResult

from .cluster import Cluster

TICKS_PER_S = 10  # the default tick is 100 ms


def _quiet(c: Cluster, group: int = 1) -> bool:
    return all(n.groups[group].quiesced for i, n in c.nodes.items() if i not in c.down)


def _settle_quiet(c: Cluster, group: int = 1, ticks: int = 60) -> None:
    for _ in range(ticks):
        if _quiet(c, group):
            c.step()  # the answers to the quiesce heartbeats
            return
        c.tick()
    raise AssertionError(f"group {group} never went quiet")


def test_an_idle_group_goes_quiet_and_sends_nothing_but_node_liveness() -> None:
    c = Cluster()
    lead = c.leader()
    c.call(lead, Put(b"k", b"v"))
    _settle_quiet(c)
    c.delivered.clear()
    c.tick(10 * TICKS_PER_S)
    assert c.delivered[1] == 0  # no heartbeat of the group in 10 s
    assert 0 < c.delivered[LIVENESS_GROUP] <= 3 * 2 * 10 * TICKS_PER_S // 3  # a few per node pair, whatever the groups


def test_a_write_and_a_follower_read_wake_a_quiet_group() -> None:
    c = Cluster()
    lead = c.leader()
    _settle_quiet(c)
    assert isinstance(c.call(lead, Put(b"k", b"v1")), PutResult)
    _settle_quiet(c)
    follower = next(i for i in c.nodes if i != lead)
    assert c.call(follower, Range(b"k")).kvs[0].value == b"v1"  # a ReadIndex round through the sleeping leader


def test_a_quiet_group_whose_leader_is_cut_off_elects_a_new_leader() -> None:
    c = Cluster()
    lead = c.leader()
    _settle_quiet(c)
    c.isolate(lead)  # silently: no connection breaks, no request arrives
    new = c.wait_leader_except(lead)  # node liveness wakes the followers
    assert isinstance(c.call(new, Put(b"k", b"v")), PutResult)


def test_a_group_with_a_live_lease_keeps_ticking_until_the_lease_expires() -> None:
    c = Cluster()
    lead = c.leader()
    c.call(lead, LeaseGrant(7, 2))
    c.call(lead, Put(b"k", b"v", lease=7))
    c.tick(TICKS_PER_S)
    assert not c.nodes[lead].groups[1].quiesced  # its leader times the lease
    c.tick(3 * TICKS_PER_S)
    assert c.call(lead, Range(b"k")).kvs == []  # revoked on time
    _settle_quiet(c)


def test_no_quiescence_with_lease_reads() -> None:
    c = Cluster(lease_reads=True)
    c.leader()
    c.tick(5 * TICKS_PER_S)
    assert not any(n.groups[1].quiesced for n in c.nodes.values())


def test_groups_created_at_run_time_elect_serve_and_go_quiet() -> None:
    c = Cluster(state_machine="counter")
    for group in (7, 8):
        for node_id in c.nodes:
            assert c.call(node_id, GroupCreate(group, [1, 2, 3])) == OkResult()
    leaders = {g: c.leader(g) for g in (7, 8)}
    assert c.call(leaders[7], CounterAdd(b"n", 2), group=7).value == 2
    assert c.call(leaders[8], CounterAdd(b"n", 5), group=8).value == 5
    for g in (1, 7, 8):
        _settle_quiet(c, g)
    c.delivered.clear()
    c.tick(5 * TICKS_PER_S)
    assert c.delivered[1] == c.delivered[7] == c.delivered[8] == 0
    restarted = c.restart(leaders[7])  # a created group survives a restart, from the log
    assert sorted(restarted.groups) == [1, 7, 8]
    c.tick(2 * TICKS_PER_S)
    assert c.call(c.leader(7), CounterGet(b"n"), group=7).value == 2


def test_creating_a_group_twice_or_with_unknown_members_is_refused() -> None:
    c = Cluster()
    assert c.call(1, GroupCreate(5, [1, 2, 3])) == OkResult()
    assert "exists already" in c.call(1, GroupCreate(5, [1, 2, 3])).message
    assert "no peer address known for nodes [77]" in c.call(1, GroupCreate(6, [1, 77])).message
    assert "a group id >= 1 and members" in c.call(1, GroupCreate(0, [1])).message  # 0: the liveness heartbeats
    assert "a group id >= 1 and members" in c.call(1, GroupCreate(9, [])).message


def test_a_removed_group_is_gone_after_a_restart_and_its_data_with_it() -> None:
    c = Cluster(state_machine="counter")
    for node_id in c.nodes:
        assert c.call(node_id, GroupCreate(7, [1, 2, 3])) == OkResult()
    leader = c.leader(7)
    assert c.call(leader, CounterAdd(b"n", 2), group=7).value == 2
    c.settle()
    gone = next(i for i in c.nodes if i != leader)
    assert c.call(gone, GroupRemove(7)) == OkResult()
    assert 7 not in c.nodes[gone].groups
    assert "hosts no group 7" in c.call(gone, CounterGet(b"n"), group=7).message
    assert "hosts no group 7" in c.call(gone, GroupRemove(7)).message
    c.settle()
    restarted = c.restart(gone)
    assert sorted(restarted.groups) == [1]  # the tombstone in the log dropped it
    assert c.call(leader, CounterAdd(b"n", 1), group=7).value == 3  # the other two replicas serve on
