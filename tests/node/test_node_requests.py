"""The node core serving client requests: routing, batching, reads, idempotency, timeouts, lost proposals."""

from __future__ import annotations

from tandemdb.kv import ErrorResult, Put, PutResult, Range, RangeResult
from tandemdb.storage.errors import DiskFullError
from tandemdb.wire.client_api import Error, ErrorKind, MemberList, Status, StatusResult

from .cluster import Cluster


def test_a_write_on_the_leader_commits_and_reads_see_it() -> None:
    c = Cluster()
    lead = c.leader()
    put = c.call(lead, Put(b"k", b"v"))
    assert isinstance(put, PutResult) and put.revision == 1
    got = c.call(lead, Range(b"k"))
    assert isinstance(got, RangeResult) and got.kvs[0].value == b"v"


def test_a_follower_redirects_writes_to_the_leader_client_endpoint() -> None:
    c = Cluster()
    lead = c.leader()
    c.tick(30)  # members publish their addresses
    follower = next(i for i in c.nodes if i != lead)
    reply = c.call(follower, Put(b"k", b"v"))
    assert isinstance(reply, Error) and reply.kind == ErrorKind.NOT_LEADER
    assert reply.leader == lead and reply.leader_endpoint == f"10.0.0.{lead}:2379"


def test_members_publish_their_addresses_and_labels() -> None:
    c = Cluster()
    c.leader()
    c.tick(30)
    for node_id in c.nodes:
        listed = c.call(node_id, MemberList())
        assert [(s.member.id, s.member.client, s.member.zone) for s in listed.members] == [
            (i, f"10.0.0.{i}:2379", f"z{i}") for i in (1, 2, 3)
        ]


def test_one_turn_of_writes_becomes_one_raft_entry() -> None:
    c = Cluster()
    lead = c.leader()
    c.tick(30)
    node = c.nodes[lead]
    before = node.groups[1].rn.raft.log.last_index()
    reqs = [c.send(lead, Put(b"k%d" % i, b"v")) for i in range(100)]
    c.step()
    assert node.groups[1].rn.raft.log.last_index() == before + 1
    c.settle()
    revisions = sorted(c.reply_to(r).revision for r in reqs)
    assert revisions == list(range(revisions[0], revisions[0] + 100))


def test_writes_that_arrive_while_the_log_write_syncs_share_the_next_entry() -> None:
    c = Cluster()
    lead = c.leader()
    c.tick(30)
    node = c.nodes[lead]
    log = node.groups[1].rn.raft.log
    before = log.last_index()
    first = c.send(lead, Put(b"first", b"v"))
    syncing = node.drain()  # the entry of the first write is being synced
    assert syncing.persist and log.last_index() == before + 1
    later = []
    for turn in range(5):  # five more loop turns with writes, while that sync is still running
        later += [c.send(lead, Put(b"k%d-%d" % (turn, i), b"v")) for i in range(10)]
        assert not node.drain().persist
    assert log.last_index() == before + 1  # not proposed yet
    node.storage.commit(syncing.batch)
    node.persisted(syncing.persist, None)
    for conn, resp in syncing.replies:
        c.replies[conn].append((resp.id, resp.reply))
    for to, msgs in syncing.messages.items():
        c.nodes[to].receive(msgs)
    c.step()
    assert log.last_index() == before + 2  # the 50 later writes: one entry
    c.settle()
    assert c.reply_to(first).revision == 1
    assert sorted(c.reply_to(r).revision for r in later) == list(range(2, 52))


def test_a_write_queued_behind_a_log_write_that_never_finishes_is_answered_not_applied() -> None:
    c = Cluster()
    lead = c.leader()
    c.tick(30)
    node = c.nodes[lead]
    c.send(lead, Put(b"first", b"v"))
    assert node.drain().persist  # and that sync never finishes
    late = c.send(lead, Put(b"late", b"v"))
    for _ in range(60):  # the request timeout is 5 s: 50 ticks
        node.tick()
        for conn, resp in node.drain().replies:
            c.replies[conn].append((resp.id, resp.reply))
    reply = c.reply_to(late)
    assert isinstance(reply, Error) and reply.kind == ErrorKind.UNAVAILABLE and "not applied" in reply.message


def test_serializable_reads_are_served_by_a_follower_from_its_own_state() -> None:
    c = Cluster()
    lead = c.leader()
    c.call(lead, Put(b"k", b"v"))
    c.settle()
    follower = next(i for i in c.nodes if i != lead)
    got = c.call(follower, Range(b"k"), serializable=True)
    assert got.kvs[0].value == b"v"
    # A linearizable read on a follower goes through ReadIndex and sees the latest write.
    c.call(lead, Put(b"k", b"w"))
    got = c.call(follower, Range(b"k"))
    assert got.kvs[0].value == b"w"


def test_a_retried_write_with_the_same_client_and_seq_applies_once() -> None:
    c = Cluster()
    lead = c.leader()
    first = c.call(lead, Put(b"k", b"v"), client_id=7, seq=1)
    again = c.call(lead, Put(b"k", b"v"), client_id=7, seq=1)
    assert again == first
    status = c.call(lead, Status())
    assert isinstance(status, StatusResult) and status.revision == 1


def test_a_write_without_quorum_times_out() -> None:
    c = Cluster(request_timeout_ms=1000)
    lead = c.leader()
    c.isolate(lead)
    reply = c.call(lead, Put(b"k", b"v"), ticks=50)
    assert isinstance(reply, Error) and reply.kind in (ErrorKind.TIMEOUT, ErrorKind.UNAVAILABLE, ErrorKind.NOT_LEADER)


def test_a_proposal_overwritten_by_a_new_leader_is_reported_not_applied() -> None:
    c = Cluster(request_timeout_ms=60_000)
    old = c.leader()
    c.isolate(old)
    req = c.send(old, Put(b"lost", b"x"))
    c.step()
    new = c.wait_leader_except(old)
    assert isinstance(c.call(new, Put(b"other", b"y")), PutResult)
    c.heal()
    for _ in range(100):
        if c.reply_to(req) is not None:
            break
        c.tick()
    reply = c.reply_to(req)
    assert isinstance(reply, Error) and reply.kind in (ErrorKind.UNAVAILABLE, ErrorKind.NOT_LEADER)
    got = c.call(new, Range(b"lost"))
    assert got.kvs == []


def test_bad_requests_get_clear_errors_and_the_node_keeps_serving() -> None:
    c = Cluster()
    lead = c.leader()
    too_big = c.call(lead, Put(b"k", b"x" * (2 << 20)))
    assert isinstance(too_big, ErrorResult) and too_big.code == "value_too_large"
    empty = c.call(lead, Put(b"", b"x"))
    assert isinstance(empty, ErrorResult)
    assert isinstance(c.call(lead, Status(), group=99), Error)
    assert isinstance(c.call(lead, Put(b"k", b"v")), PutResult)


def test_a_restarted_node_recovers_its_data_and_catches_up() -> None:
    c = Cluster()
    lead = c.leader()
    for i in range(20):
        c.call(lead, Put(b"k%d" % i, b"v"))
    c.settle()
    follower = next(i for i in c.nodes if i != lead)
    c.down.add(follower)
    c.call(lead, Put(b"late", b"v"))
    c.restart(follower)
    c.tick(20)
    got = c.call(follower, Range(b"late"), serializable=True)
    assert got.kvs and got.kvs[0].value == b"v"


def test_a_failed_log_write_answers_every_waiting_request_and_refuses_new_ones() -> None:
    c = Cluster()
    lead = c.leader()
    node = c.nodes[lead]
    req = c.send(lead, Put(b"k", b"v"))
    out = node.drain()
    assert out.persist
    node.persisted(out.persist, DiskFullError("the disk is full"))
    replies = dict((r.id, r.reply) for _, r in node.drain().replies)
    assert replies[req].kind == ErrorKind.STORAGE and "disk is full" in replies[req].message
    late = c.send(lead, Put(b"k", b"v"))
    assert dict((r.id, r.reply) for _, r in node.drain().replies)[late].kind == ErrorKind.UNAVAILABLE
    assert node.failed is not None
