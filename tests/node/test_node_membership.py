"""Membership changes at runtime, leadership moves and graceful stops, backups and restores."""

from __future__ import annotations

import random

from tandemdb.kv import Put, Range
from tandemdb.node.backup import decode_backup, install_backup
from tandemdb.storage import NodeStorage
from tandemdb.storage.simdisk import SimDisk
from tandemdb.wire.client_api import (
    Error,
    ErrorKind,
    MemberAdd,
    MemberList,
    MemberPromote,
    MemberRemove,
    MemberResult,
    MoveLeader,
    OkResult,
    SnapshotResult,
    SnapshotSave,
)

from .cluster import Cluster, member


def test_add_a_learner_let_it_catch_up_promote_it_and_remove_an_old_member() -> None:
    c = Cluster()
    lead = c.leader()
    for i in range(30):
        c.call(lead, Put(b"k%d" % i, b"v"))
    added = c.call(lead, MemberAdd(member(4), learner=True))
    assert isinstance(added, MemberResult) and added.member.id == 4
    assert [(s.member.id, s.learner) for s in added.members][-1] == (4, True)
    c.add_node(4, None)  # joins: no bootstrap, learns everything from the leader
    c.tick(20)
    assert c.call(4, Range(b"k29"), serializable=True).kvs
    promoted = c.call(lead, MemberPromote(4))
    assert isinstance(promoted, MemberResult) and all(not s.learner for s in promoted.members)
    removed_id = next(i for i in (1, 2, 3) if i != lead)
    removed = c.call(lead, MemberRemove(removed_id))
    assert sorted(s.member.id for s in removed.members) == sorted({1, 2, 3, 4} - {removed_id})
    c.down.add(removed_id)
    assert c.call(lead, Put(b"after", b"v")).revision == 31


def test_a_learner_far_behind_is_not_promoted() -> None:
    c = Cluster()
    lead = c.leader()
    for i in range(30):
        c.call(lead, Put(b"k%d" % i, b"v"))
    c.call(lead, MemberAdd(member(4), learner=True))  # node 4 never starts
    refused = c.call(lead, MemberPromote(4))
    assert isinstance(refused, Error) and refused.kind == ErrorKind.UNAVAILABLE and "caught up" in refused.message


def test_membership_requests_are_checked() -> None:
    c = Cluster()
    lead = c.leader()
    assert c.call(lead, MemberAdd(member(2))).kind == ErrorKind.BAD_REQUEST  # already a member
    assert c.call(lead, MemberRemove(9)).kind == ErrorKind.NOT_FOUND
    assert c.call(lead, MemberPromote(2)).kind == ErrorKind.BAD_REQUEST  # not a learner
    auto = c.call(lead, MemberAdd(member(0)))
    assert isinstance(auto, MemberResult) and auto.member.id == 4  # id 0: the next free id
    assert [s.member.id for s in c.call(lead, MemberList()).members] == [1, 2, 3, 4]


def test_move_leader_and_graceful_stop_hand_leadership_over() -> None:
    c = Cluster()
    lead = c.leader()
    target = next(i for i in c.nodes if i != lead)
    assert isinstance(c.call(lead, MoveLeader(target)), OkResult)
    assert c.nodes[target].groups[1].is_leader
    c.nodes[target].stop()
    c.tick(5)
    assert not c.nodes[target].leads_any()
    assert any(n.leads_any() for i, n in c.nodes.items() if i != target)
    stopped = c.call(target, Put(b"k", b"v"))
    assert isinstance(stopped, Error) and stopped.kind == ErrorKind.UNAVAILABLE


def test_a_backup_restores_into_a_new_cluster_with_the_same_data() -> None:
    c = Cluster()
    lead = c.leader()
    for i in range(10):
        c.call(lead, Put(b"k%d" % i, b"v%d" % i))
    saved = c.call(lead, SnapshotSave())
    assert isinstance(saved, SnapshotResult) and saved.revision == 10
    backup = decode_backup(saved.data)
    new_members = [member(i) for i in (1, 2, 3)]
    fresh = Cluster(size=0, seed=2)
    for m in new_members:
        disk = fresh.disks[m.id] = SimDisk(random.Random(m.id))
        install_backup(NodeStorage.open(disk, "/data", cluster_id=1, node_id=m.id), backup, new_members)
        fresh.add_node(m.id, None)
    new_lead = fresh.leader()
    got = fresh.call(new_lead, Range(b"k", b"l"))
    assert [(kv.key, kv.value) for kv in got.kvs] == [(b"k%d" % i, b"v%d" % i) for i in range(10)]
    assert fresh.call(new_lead, Put(b"more", b"v")).revision == 11


def test_a_learner_added_after_compaction_catches_up_from_a_snapshot_that_includes_it() -> None:
    c = Cluster(snapshot_every=20, keep_entries=5)
    lead = c.leader()
    for i in range(60):
        c.call(lead, Put(b"k%d" % i, b"v"))  # the log before the learner is compacted away
    c.call(lead, MemberAdd(member(4), learner=True))
    c.add_node(4, None)
    c.tick(30)
    assert c.call(4, Range(b"k59"), serializable=True).kvs
    assert isinstance(c.call(lead, MemberPromote(4)), MemberResult)
