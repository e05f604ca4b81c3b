"""The node's known-bug switches do what they say (the chaos harness relies on them to prove it can fail)."""

from __future__ import annotations

import pytest

from tandemdb.kv import Put, PutResult, Range
from tandemdb.node import NodeConfig
from tandemdb.wire.client_api import Member

from .cluster import Cluster


def test_stale_follower_read_serves_an_isolated_follower_s_old_state() -> None:
    c = Cluster(bugs=frozenset({"stale_follower_read"}))
    lead = c.leader()
    c.call(lead, Put(b"k", b"old"))
    c.settle()
    follower = next(i for i in c.nodes if i != lead)
    c.isolate(follower)
    assert isinstance(c.call(lead, Put(b"k", b"new")), PutResult)
    stale = c.call(follower, Range(b"k"))
    assert stale.kvs[0].value == b"old"  # a linearizable read that missed an acknowledged write


def test_without_the_bug_an_isolated_follower_does_not_answer_a_linearizable_read() -> None:
    c = Cluster(request_timeout_ms=1000)
    lead = c.leader()
    c.call(lead, Put(b"k", b"old"))
    c.settle()
    follower = next(i for i in c.nodes if i != lead)
    c.isolate(follower)
    c.call(lead, Put(b"k", b"new"))
    reply = c.call(follower, Range(b"k"))
    assert not hasattr(reply, "kvs") or reply.kvs[0].value == b"new"


def test_ack_before_persist_sends_acknowledgements_before_the_write_is_durable() -> None:
    c = Cluster(bugs=frozenset({"ack_before_persist"}))
    lead = c.leader()
    follower = next(i for i in c.nodes if i != lead)
    c.send(lead, Put(b"k", b"v"))
    out = c.nodes[lead].drain()
    c.nodes[follower].receive(out.messages[follower])
    early = c.nodes[follower].drain()
    assert early.persist and lead in early.messages  # acknowledged while the write is still pending


def test_unknown_bug_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown bug"):
        Cluster(bugs=frozenset({"no_such_bug"}))
    assert NodeConfig(member=Member(1, "h:1")).bugs == frozenset()
