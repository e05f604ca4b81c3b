"""Tests of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm",
USENIX ATC 2014), section 5, in the style of etcd-io/raft's raft_paper_test.go: each test focuses on a few
sentences of the paper, quoted in its docstring.

PreVote and CheckQuorum are turned off where a test checks the paper's basic algorithm (they are extensions
from the thesis, tested in test_raft_thesis.py).
"""

from __future__ import annotations

import random

import pytest

from raft_harness import Cluster, new_cluster
from tandemdb.raft.config import Config
from tandemdb.raft.raft import Raft
from tandemdb.raft.storage import MemoryStorage
from tandemdb.raft.types import (
    NONE,
    ConfState,
    Entry,
    HardState,
    Message,
    MessageType as MT,
    Role,
)

PAPER = dict(pre_vote=False, check_quorum=False)


def new_raft(nid: int, peers=(1, 2, 3), storage: MemoryStorage | None = None, seed: int | None = None, **opts) -> Raft:
    st = storage or MemoryStorage(ConfState(voters=tuple(peers)))
    opts = {**PAPER, **opts}
    return Raft(Config(id=nid, storage=st, rng=random.Random(nid if seed is None else seed), **opts))


def take(r: Raft) -> list[Message]:
    msgs, r.msgs = r.msgs, []
    return msgs


def storage_with(terms: list[int], peers=(1, 2, 3), hs_term: int | None = None) -> MemoryStorage:
    """A storage whose log holds one entry per term in ``terms`` (index 1, 2, ...)."""
    st = MemoryStorage(ConfState(voters=tuple(peers)))
    st.append([Entry(term=t, index=i) for i, t in enumerate(terms, 1)])
    st.set_hard_state(HardState(term=hs_term if hs_term is not None else (terms[-1] if terms else 0)))
    return st


def make_leader(r: Raft) -> None:
    """Drive ``r`` to leadership of its (paper-mode) cluster by granting it every vote."""
    r.step(Message(type=MT.HUP, frm=r.id))
    for v in r.tracker.voter_ids():
        if v != r.id and r.role != Role.LEADER:
            r.step(Message(type=MT.VOTE_RESP, frm=v, to=r.id, term=r.term))
    assert r.role == Role.LEADER
    take(r)


def commit_noop(r: Raft) -> None:
    """Make the leader's empty entry durable and acknowledged by every follower (which puts them in REPLICATE),
    as etcd's commitNoopEntry."""
    r.on_persisted(r.log.last_index())
    for v in r.tracker.peers():
        if v != r.id:
            r.step(Message(type=MT.APP_RESP, frm=v, to=r.id, term=r.term, index=r.log.last_index()))
    assert r.log.committed == r.log.last_index()
    take(r)


# -- §5.1 Raft basics ---------------------------------------------------------------------------------------------


def test_5_1_servers_start_as_followers():
    """§5.1: "When servers start up, they begin as followers." """
    r = new_raft(1)
    assert r.role == Role.FOLLOWER and r.term == 0 and r.lead == NONE


@pytest.mark.parametrize("role", [Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE, Role.LEADER])
def test_5_1_update_term_from_message(role):
    """§5.1: "If one server's current term is smaller than the other's, then it updates its current term to the
    larger value. If a candidate or leader discovers that its term is out of date, it immediately reverts to
    follower state." """
    r = new_raft(1, pre_vote=(role == Role.PRE_CANDIDATE))
    if role == Role.PRE_CANDIDATE:
        r.step(Message(type=MT.HUP, frm=1))
    elif role == Role.CANDIDATE:
        r.become_candidate()
    elif role == Role.LEADER:
        r.become_candidate()
        r.become_leader()
    assert r.role == role
    r.step(Message(type=MT.APP, frm=2, to=1, term=5))
    assert r.term == 5
    assert r.role == Role.FOLLOWER
    assert r.lead == 2  # an append of a higher term comes from that term's leader


def test_5_1_higher_term_vote_request_updates_term_and_clears_vote():
    """§5.1 and Figure 2 (Rules for All Servers): "If RPC request or response contains term T > currentTerm:
    set currentTerm = T, convert to follower" - and the vote of the old term no longer counts."""
    r = new_raft(1)
    r.become_candidate()  # term 1, voted for itself
    assert (r.term, r.vote) == (1, 1)
    r.step(Message(type=MT.VOTE, frm=2, to=1, term=3, index=0, log_term=0))
    assert (r.term, r.role) == (3, Role.FOLLOWER)
    assert r.vote == 2  # the vote of term 3 went to 2; the old vote for itself was for term 1
    (resp,) = take(r)
    assert resp.type == MT.VOTE_RESP and not resp.reject and resp.term == 3


def test_5_1_reject_stale_term_message():
    """§5.1: "If a server receives a request with a stale term number, it rejects the request." """
    r = new_raft(1, storage=storage_with([1, 2], hs_term=2))
    r.step(Message(type=MT.APP, frm=2, to=1, term=1, index=2, log_term=2, entries=[Entry(1, 3)], commit=3))
    assert r.log.last_index() == 2 and r.log.committed == 0 and r.term == 2
    assert take(r) == []  # ignored (without CheckQuorum/PreVote nothing is sent back)
    r.step(Message(type=MT.VOTE, frm=3, to=1, term=1, index=5, log_term=2))
    assert r.vote == NONE and take(r) == []


def test_5_1_stale_leader_learns_new_term_and_steps_down():
    """§5.1: "If a candidate or leader discovers that its term is out of date, it immediately reverts to follower
    state." With CheckQuorum or PreVote on, a follower answers a stale leader's append with its own term so that
    the stale leader finds out (as etcd)."""
    c = new_cluster(3)
    c.elect(1)
    c.isolate(1)
    for _ in range(40):
        c.tick(2)
        c.tick(3)
        c.stabilize([2, 3])
        if any(c.raft(n).role == Role.LEADER for n in (2, 3)):
            break
    new = [n for n in (2, 3) if c.raft(n).role == Role.LEADER]
    assert new, "2 and 3 should have elected a leader"
    assert c.raft(1).role == Role.LEADER and c.raft(1).term == 1  # the old leader does not know yet
    c.heal()
    # The old leader still sends appends of term 1; the answer carries the new term and deposes it.
    c.propose(1, b"stale")
    c.stabilize()
    assert c.raft(1).role == Role.FOLLOWER and c.raft(1).term == c.raft(new[0]).term
    c.tick_heartbeat(new[0])
    c.stabilize()
    assert c.raft(1).lead == new[0]
    assert b"stale" not in c.nodes[1].state()  # never committed: the new leader's log replaced it


def test_5_2_leader_broadcasts_heartbeats():
    """§5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no log entries) to all followers
    in order to maintain their authority." """
    r = new_raft(1, heartbeat_tick=2)
    make_leader(r)
    r.tick()
    assert [m for m in take(r) if m.type == MT.HEARTBEAT] == []
    r.tick()
    beats = take(r)
    assert sorted((m.to, m.type) for m in beats) == [(2, MT.HEARTBEAT), (3, MT.HEARTBEAT)]
    assert all(not m.entries for m in beats)


# -- §5.2 Leader election ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.FOLLOWER, Role.CANDIDATE])
def test_5_2_nonleader_starts_election(role):
    """§5.2: "If a follower receives no communication over a period of time called the election timeout, then it
    assumes there is no viable leader and begins an election to choose a new leader. To begin an election, a
    follower increments its current term and transitions to candidate state. It then votes for itself and
    issues RequestVote RPCs in parallel to each of the other servers in the cluster." And: "A candidate
    continues in this state until ... a period of time goes by with no winner" - then it starts a new
    election by incrementing its term."""
    r = new_raft(1, election_tick=10)
    if role == Role.CANDIDATE:
        r.become_candidate()
    term = r.term
    take(r)
    ticks = 0
    while r.term == term:
        r.tick()
        ticks += 1
    assert ticks < 2 * 10
    assert r.role == Role.CANDIDATE
    assert r.term == term + 1
    assert r.vote == 1
    votes = take(r)
    assert sorted(m.to for m in votes) == [2, 3]
    assert all(m.type == MT.VOTE and m.term == term + 1 for m in votes)


@pytest.mark.parametrize(
    "size,granted,rejected,expected",
    [
        # etcd's TestLeaderElectionInOneRoundRPC table: the candidate itself is always one of the grants.
        (1, [], [], Role.LEADER),
        (3, [2, 3], [], Role.LEADER),
        (3, [2], [], Role.LEADER),
        (5, [2, 3, 4, 5], [], Role.LEADER),
        (5, [2, 3, 4], [], Role.LEADER),
        (5, [2, 3], [], Role.LEADER),
        (3, [], [2, 3], Role.FOLLOWER),
        (5, [2], [3, 4, 5], Role.FOLLOWER),
        (5, [], [2, 3, 4], Role.FOLLOWER),
        (5, [2], [3, 4], Role.CANDIDATE),
        (3, [], [], Role.CANDIDATE),
        (5, [2], [], Role.CANDIDATE),
        (5, [2], [3], Role.CANDIDATE),
        (5, [], [2, 3], Role.CANDIDATE),
    ],
)
def test_5_2_leader_election_in_one_round(size, granted, rejected, expected):
    """§5.2: "A candidate wins an election if it receives votes from a majority of the servers in the full
    cluster for the same term." ... "if many followers become candidates at the same time, votes could be
    split so that no candidate obtains a majority" - it stays candidate; with a majority against it, it loses
    and goes back to follower."""
    peers = tuple(range(1, size + 1))
    r = new_raft(1, peers=peers)
    r.step(Message(type=MT.HUP, frm=1))
    for v in granted:
        r.step(Message(type=MT.VOTE_RESP, frm=v, to=1, term=r.term))
    for v in rejected:
        r.step(Message(type=MT.VOTE_RESP, frm=v, to=1, term=r.term, reject=True))
    assert r.role == expected
    assert r.term == 1


def test_5_2_follower_votes_first_come_first_served():
    """§5.2: "Each server will vote for at most one candidate in a given term, on a first-come-first-served
    basis." A repeated request of the candidate it voted for is granted again (a lost response)."""
    r = new_raft(1)
    r.step(Message(type=MT.VOTE, frm=2, to=1, term=1))
    r.step(Message(type=MT.VOTE, frm=3, to=1, term=1))
    r.step(Message(type=MT.VOTE, frm=2, to=1, term=1))
    resps = take(r)
    assert [(m.to, m.reject) for m in resps] == [(2, False), (3, True), (2, False)]
    assert r.vote == 2


def test_5_2_candidate_steps_down_on_seeing_leader_of_same_term():
    """§5.2: "While waiting for votes, a candidate may receive an AppendEntries RPC from another server claiming
    to be leader. If the leader's term ... is at least as large as the candidate's current term, then the
    candidate recognizes the leader as legitimate and returns to follower state." """
    for term in (1, 2):
        r = new_raft(1)
        r.become_candidate()  # term 1
        r.step(Message(type=MT.APP, frm=2, to=1, term=term, index=0, log_term=0))
        assert (r.role, r.term, r.lead) == (Role.FOLLOWER, term, 2)
    # "If the term in the RPC is smaller than the candidate's current term, then the candidate rejects the RPC
    # and continues in candidate state."
    r = new_raft(1)
    r.become_candidate()
    r.become_candidate()  # term 2
    r.step(Message(type=MT.APP, frm=2, to=1, term=1, index=0, log_term=0))
    assert r.role == Role.CANDIDATE and r.term == 2


def test_5_2_election_timeouts_are_randomized():
    """§5.2: "Raft uses randomized election timeouts to ensure that split votes are rare ... election timeouts
    are chosen randomly from a fixed interval (e.g., 150-300ms)." Here: [election_tick, 2 * election_tick),
    drawn from the injected seeded generator, so it is reproducible and differs across seeds."""
    et = 10

    def first_timeout(seed: int, rounds: int = 1) -> list[int]:
        r = new_raft(1, seed=seed, election_tick=et)
        out = []
        for _ in range(rounds):
            ticks = 0
            term = r.term
            while r.term == term:
                r.tick()
                ticks += 1
            out.append(ticks)
        return out

    seen = set()
    for seed in range(200):
        (t,) = first_timeout(seed)
        assert et <= t < 2 * et
        seen.add(t)
    assert seen == set(range(et, 2 * et))  # every value of the interval occurs
    assert first_timeout(7, rounds=5) == first_timeout(7, rounds=5)  # same seed, same timeouts
    # Different seeds give different nodes different timeouts: in a five-node cluster seeded 1..5 (the
    # harness's seeds), the nodes do not all time out together.
    assert len({first_timeout(s)[0] for s in range(1, 6)}) > 1


def test_5_2_election_timeouts_rarely_conflict():
    """§5.2: "in most cases only a single server will time out; it wins the election and sends heartbeats
    before any other servers time out." Over many rounds, the first two of five nodes (seeded 1..5) to time out
    rarely do so on the same tick."""
    rafts = [new_raft(i, peers=(1, 2, 3, 4, 5)) for i in range(1, 6)]
    conflicts = 0
    rounds = 500
    for _ in range(rounds):
        for r in rafts:
            r.become_follower(r.term, NONE)  # draws a new randomized timeout from the node's generator
        timeouts = sorted(r.randomized_election_timeout for r in rafts)
        conflicts += timeouts[0] == timeouts[1]
    assert conflicts / rounds < 0.4


def test_5_2_candidate_votes_for_itself_and_wins_with_majority():
    """§5.2, end to end: the candidate votes for itself (persisted before it asks, so that it cannot vote for
    another in the same term after a restart) and wins with a majority of the cluster."""
    c = new_cluster(5, **PAPER)
    c.campaign(1)
    rd = c.raw(1).ready()
    assert rd.hard_state is not None and (rd.hard_state.term, rd.hard_state.vote) == (1, 1)
    assert rd.must_sync
    assert {m.to for m in rd.messages if m.type == MT.VOTE} == {2, 3, 4, 5}
    c.nodes[1].storage.set_hard_state(rd.hard_state)
    c.raw(1).advance(rd)
    c.isolate(4)
    c.isolate(5)  # two of five voters unreachable: the candidate and two more still form a majority
    c.send(rd.messages)
    c.stabilize()
    assert c.raft(1).role == Role.LEADER and c.raft(1).term == 1


# -- §5.3 Log replication ---------------------------------------------------------------------------------------------


def test_5_3_leader_starts_replication():
    """§5.3: "Once a leader has been elected, it begins servicing client requests. ... The leader appends the
    command to its log as a new entry, then issues AppendEntries RPCs in parallel to each of the other servers
    to replicate the entry." The RPC carries the index and term of the entry preceding the new ones."""
    r = new_raft(1)
    make_leader(r)
    commit_noop(r)
    li = r.log.last_index()  # the leader's empty entry
    r.step(Message(type=MT.PROP, frm=1, entries=[Entry(0, 0, data=b"some data")]))
    assert r.log.last_index() == li + 1
    apps = take(r)
    assert sorted(m.to for m in apps) == [2, 3]
    for m in apps:
        assert m.type == MT.APP and m.term == 1
        assert (m.index, m.log_term) == (li, 1)
        assert [(e.term, e.index, e.data) for e in m.entries] == [(1, li + 1, b"some data")]


@pytest.mark.parametrize(
    "size,acks,committed",
    [(1, [], True), (3, [], False), (3, [2], True), (3, [2, 3], True), (5, [2], False), (5, [2, 3], True),
     (5, [2, 3, 4, 5], True)],
)  # fmt: skip
def test_5_3_leader_commits_once_a_majority_acknowledged(size, acks, committed):
    """§5.3: "A log entry is committed once the leader that created the entry has replicated it on a majority
    of the servers." """
    r = new_raft(1, peers=tuple(range(1, size + 1)))
    make_leader(r)
    commit_noop(r)
    r.step(Message(type=MT.PROP, frm=1, entries=[Entry(0, 0, data=b"x")]))
    r.on_persisted(r.log.last_index())
    li = r.log.last_index()
    for v in acks:
        r.step(Message(type=MT.APP_RESP, frm=v, to=1, term=r.term, index=li))
    assert (r.log.committed == li) == committed


def test_5_3_leader_commit_is_announced_and_applied_by_followers():
    """§5.3: "The leader keeps track of the highest index it knows to be committed, and it includes that index
    in future AppendEntries RPCs (including heartbeats) so that the other servers eventually find out. Once a
    follower learns that a log entry is committed, it applies the entry to its local state machine (in log
    order)." """
    c = new_cluster(3, **PAPER)
    c.elect(1)
    c.propose(1, b"a")
    c.propose(1, b"b")
    c.process_ready(1)
    c.deliver([2, 3])
    c.process_ready(2)
    c.process_ready(3)
    c.deliver([1])
    rd = c.process_ready(1)
    assert [e.data for e in rd.committed_entries] == [b"a", b"b"]
    assert c.raft(2).log.committed < c.raft(1).log.committed  # not yet told
    c.stabilize()
    for n in (1, 2, 3):
        assert c.nodes[n].state() == [b"a", b"b"]
        assert c.raft(n).log.committed == c.raft(1).log.last_index()


def test_5_3_follower_learns_commit_from_heartbeat():
    """§5.3: the commit index travels in heartbeats too ("including heartbeats")."""
    c = new_cluster(3, **PAPER)
    c.elect(1)
    c.propose(1, b"a")
    c.process_ready(1)
    c.deliver([2], drop=[3])
    c.process_ready(2)
    c.deliver([1])
    c.process_ready(1)  # committed with 2's ack; the commit-carrying appends are lost
    c.deliver([], drop=[2, 3])
    assert c.raft(1).log.committed == 2 and c.raft(2).log.committed == 1
    c.tick_heartbeat(1)
    c.process_ready(1)
    c.deliver([2])
    c.process_ready(2)
    assert c.raft(2).log.committed == 2 and c.nodes[2].state() == [b"a"]


def test_5_3_leader_commits_preceding_entries():
    """§5.3: "When the entry has been safely replicated ... The leader ... commits [it]. This also commits all
    preceding entries in the leader's log, including entries created by previous leaders." """
    for prior in ([], [1], [1, 1], [1, 2], [1, 1, 2]):
        c = Cluster(quiet=True)
        for _ in range(3):
            c.add_node(storage_with(prior, hs_term=2), **PAPER)
        c.elect(1)
        c.propose(1, b"new")
        c.stabilize()
        ents = c.raft(1).log.slice(1, c.raft(1).log.last_index() + 1)
        assert c.raft(1).log.committed == len(prior) + 2
        assert [e.term for e in ents] == prior + [3, 3]
        assert c.nodes[1].applied == len(prior) + 2


def test_5_3_follower_consistency_check():
    """§5.3: "When sending an AppendEntries RPC, the leader includes the index and term of the entry in its log
    that immediately precedes the new entries. If the follower does not find an entry in its log with the same
    index and term, then it refuses the new entries." """
    cases = [
        (0, 0, False),  # the empty prefix always matches
        (1, 1, False),
        (2, 2, False),
        (1, 2, True),  # wrong term
        (3, 2, True),  # beyond the follower's log
    ]
    for index, log_term, reject in cases:
        r = new_raft(1, storage=storage_with([1, 2]))
        r.step(Message(type=MT.APP, frm=2, to=1, term=2, index=index, log_term=log_term, commit=0))
        (m,) = take(r)
        assert m.type == MT.APP_RESP and m.reject == reject, (index, log_term)
        if reject:
            # The hint names our largest index whose term is <= the leader's (fast backtracking).
            assert m.reject_hint <= min(index, 2) and m.log_term <= log_term
        else:
            assert m.index == index


@pytest.mark.parametrize(
    "index,log_term,ents,expected",
    [
        # etcd's TestFollowerAppendEntries: (prev index, prev term, new entries) -> resulting log terms.
        (2, 2, [(3, 3)], [1, 2, 3]),
        (1, 1, [(2, 3), (3, 4)], [1, 3, 4]),
        (0, 0, [(1, 1)], [1, 2]),
        (0, 0, [(1, 3)], [3]),
    ],
)
def test_5_3_follower_append_entries(index, log_term, ents, expected):
    """§5.3: "If an existing entry conflicts with a new one (same index but different terms), delete the
    existing entry and all that follow it; append any new entries not already in the log." (Figure 2), and a
    matching prefix is not truncated (an old, reordered append must not drop newer entries)."""
    r = new_raft(1, storage=storage_with([1, 2]))
    r.step(
        Message(
            type=MT.APP, frm=2, to=1, term=4, index=index, log_term=log_term,
            entries=[Entry(term=t, index=i) for i, t in ents],
        )
    )  # fmt: skip
    got = r.log.slice(1, r.log.last_index() + 1)
    assert [e.term for e in got] == expected


# Figure 7 of the paper: the leader's log (term 8) and six possible follower logs (a)-(f).
FIG7_LEADER = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
FIG7_FOLLOWERS = {
    "a": [1, 1, 1, 4, 4, 5, 5, 6, 6],
    "b": [1, 1, 1, 4],
    "c": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    "d": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    "e": [1, 1, 1, 4, 4, 4, 4],
    "f": [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
}


@pytest.mark.parametrize("case", sorted(FIG7_FOLLOWERS))
def test_5_3_figure_7_leader_brings_follower_log_into_consistency(case):
    """§5.3, Figure 7: "the leader handles inconsistencies by forcing the followers' logs to duplicate its own.
    ... the leader must find the latest log entry where the two logs agree, delete any entries in the
    follower's log after that point, and send the follower all of the leader's entries after that point."
    Also: with the optimization the paper sketches ("the follower can include the term of the conflicting entry
    and the first index it stores for that term"), "one AppendEntries RPC will be required for each term with
    conflicting entries, rather than one RPC per entry": we count the rejections."""
    follower = FIG7_FOLLOWERS[case]
    c = Cluster(quiet=True)
    c.add_node(storage_with(FIG7_LEADER, hs_term=7), **PAPER)  # 1: the leader-to-be
    c.add_node(storage_with(follower, hs_term=7), **PAPER)  # 2: the follower of the figure
    c.add_node(storage_with([], hs_term=7), **PAPER)  # 3: an empty node, so that 1 can win against (d)
    c.campaign(1)
    c.stabilize()
    assert c.raft(1).role == Role.LEADER and c.raft(1).term == 8
    leader_log = [(e.index, e.term) for e in c.raft(1).log.slice(1, c.raft(1).log.last_index() + 1)]
    follower_log = [(e.index, e.term) for e in c.raft(2).log.slice(1, c.raft(2).log.last_index() + 1)]
    assert follower_log == leader_log
    assert c.raft(2).log.committed == c.raft(1).log.committed == len(FIG7_LEADER) + 1
    rejections = [m for m in c.delivered if m.type == MT.APP_RESP and m.frm == 2 and m.reject]
    conflicting_terms = len({t for i, t in enumerate(follower, 1) if i > len(FIG7_LEADER) or FIG7_LEADER[i - 1] != t})
    assert len(rejections) <= max(1, conflicting_terms)


def test_5_3_fast_backtracking_long_divergent_log():
    """§5.3: a follower with a long divergent suffix (here 200 entries of a term the leader never saw) converges
    in a few round trips, not one per entry."""
    common = [1] * 5
    c = Cluster(quiet=True)
    c.add_node(storage_with(common + [3] * 200, hs_term=3), **PAPER)
    c.add_node(storage_with(common + [2] * 200, hs_term=3), **PAPER)
    c.add_node(storage_with(common + [3] * 200, hs_term=3), **PAPER)
    c.campaign(1)
    c.stabilize()
    assert c.raft(1).role == Role.LEADER
    rejections = [m for m in c.delivered if m.type == MT.APP_RESP and m.frm == 2 and m.reject]
    assert 1 <= len(rejections) <= 2
    assert [e.term for e in c.raft(2).log.slice(1, 206)] == common + [3] * 200
    assert c.raft(2).log.committed == c.raft(1).log.committed == 206


def test_5_3_follower_never_truncates_committed_entries():
    """§5.3/§5.4 (Log Matching, State Machine Safety): a follower never removes a committed entry. A delayed
    append whose previous index is below the follower's commit index is answered with the commit index
    instead of being applied, and an append conflicting with a committed entry is refused loudly."""
    r = new_raft(1, storage=storage_with([1, 1, 1], hs_term=1))
    r.step(Message(type=MT.APP, frm=2, to=1, term=1, index=3, log_term=1, commit=3))
    take(r)
    assert r.log.committed == 3
    # A stale, reordered append from earlier in the same term: previous entry 1, entries 2..2.
    r.step(Message(type=MT.APP, frm=2, to=1, term=1, index=1, log_term=1, entries=[Entry(1, 2)], commit=1))
    (m,) = take(r)
    assert not m.reject and m.index == 3
    assert r.log.last_index() == 3 and r.log.committed == 3
    # Even a newer leader's append that would rewrite a committed entry is answered with the commit index ...
    r.step(Message(type=MT.APP, frm=3, to=1, term=2, index=2, log_term=1, entries=[Entry(2, 3)], commit=3))
    (m,) = take(r)
    assert not m.reject and m.index == 3 and r.log.term(3) == 1
    # ... and the log itself refuses loudly to replace a committed entry.
    with pytest.raises(AssertionError):
        r.log.maybe_append(2, 1, 3, [Entry(2, 3)])
    assert r.log.term(3) == 1


# -- §5.4 Safety -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "voter_log,cand_index,cand_term,granted",
    [
        # etcd's TestVoter: the candidate's log is up to date if its last term is higher, or equal with an
        # index at least as large.
        ([1], 1, 1, True),
        ([1], 2, 1, True),
        ([1, 1], 1, 1, False),
        ([1], 1, 2, True),
        ([1, 1], 1, 2, True),
        ([2], 1, 1, False),
        ([2], 2, 1, False),
        ([1, 2], 1, 1, False),
        ([1, 2], 2, 2, True),
        ([1, 2], 1, 2, False),
    ],
)
def test_5_4_1_election_restriction(voter_log, cand_index, cand_term, granted):
    """§5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the candidate. Raft
    determines which of two logs is more up-to-date by comparing the index and term of the last entries in
    the logs." """
    r = new_raft(1, storage=storage_with(voter_log, hs_term=2))
    r.step(Message(type=MT.VOTE, frm=2, to=1, term=3, index=cand_index, log_term=cand_term))
    (m,) = take(r)
    assert m.type == MT.VOTE_RESP and m.reject == (not granted)


def test_5_4_1_candidate_with_stale_log_loses():
    """§5.4.1, end to end: a node that missed committed entries cannot become leader, because every majority
    contains a node holding them."""
    c = new_cluster(3, **PAPER)
    c.elect(1)
    c.isolate(3)
    c.propose(1, b"committed")
    c.stabilize()
    assert c.raft(1).log.committed == 2
    c.heal()
    c.isolate(1)  # the leader goes away; 3 (stale) campaigns first
    c.campaign(3)
    c.stabilize([2, 3])
    assert c.raft(3).role != Role.LEADER
    assert c.raft(2).vote != 3
    c.campaign(2)
    c.stabilize([2, 3])
    assert c.raft(2).role == Role.LEADER
    assert c.nodes[3].state() == [b"committed"]


def figure_8(commit_previous_term_bug: bool = False) -> Cluster:
    """Run Figure 8 (a)-(c) with five nodes; return the cluster with S1 leader of term 3, holding index 2
    (term 1) on S1, S2 and S3 and its own entry 3 (term 3) on S1 and S2 only."""
    opts = dict(PAPER, max_size_per_msg=0)
    if commit_previous_term_bug:
        opts["bugs"] = frozenset({"commit_previous_term"})
    c = new_cluster(5, **opts)
    c.elect(1)
    # (a) S1 (term 1) replicates index 2 to S2 only.
    c.propose(1, b"a")
    c.process_ready(1)
    c.deliver([2], drop=[3, 4, 5])
    c.process_ready(2)
    c.deliver([1])
    c.process_ready(1)
    # (b) S1 crashes; S5 wins term 2 with S3 and S4 and appends its own entries; then crashes.
    c.isolate(1)
    c.campaign(5)
    c.process_ready(5)
    c.deliver([2, 3, 4])
    for n in (2, 3, 4):
        c.process_ready(n)
    c.deliver([5])
    assert c.raft(5).role == Role.LEADER and c.raft(5).term == 2
    c.propose(5, b"b")
    c.isolate(5)
    c.process_ready(5)
    # (c) S1 restarts, wins term 3 (with S2, S3, S4), replicates index 2 to S3.
    c.heal(1)
    c.restart(1)
    c.campaign(1)
    c.stabilize([1, 2, 3, 4])  # term 2: S3 and S4 already voted for S5
    c.campaign(1)
    c.process_ready(1)
    c.deliver([2, 3, 4])
    for n in (2, 3, 4):
        c.process_ready(n)
    c.deliver([1])
    assert c.raft(1).role == Role.LEADER and c.raft(1).term == 3
    c.process_ready(1)  # appends 3/3, sends it
    c.deliver([2, 3], drop=[4])
    c.process_ready(2)
    c.process_ready(3)  # 3 rejects: it lacks index 2
    c.deliver([1])
    c.process_ready(1)  # sends index 2 to 3
    c.deliver([3], drop=[2])
    c.process_ready(3)
    c.deliver([1])
    return c


def test_5_4_2_figure_8_leader_does_not_count_replicas_of_previous_terms():
    """§5.4.2, Figure 8 (c): "Raft never commits log entries from previous terms by counting replicas." Index 2
    (term 1) is on S1, S2 and S3, a majority of five, yet S1 (term 3) does not commit it."""
    c = figure_8()
    r = c.raft(1)
    matches = sorted((pr.match for pr in r.tracker.progress.values()), reverse=True)
    assert matches[2] >= 2  # a majority holds index 2 ...
    assert r.log.term(2) == 1 and r.term == 3
    assert r.log.committed == 1  # ... but it is not committed


def test_5_4_2_figure_8_with_the_bug_switch_commits_by_counting():
    """The known-bug switch ``commit_previous_term`` makes the leader commit index 2 in Figure 8 (c): this is
    what the previous test protects against (and proves the scenario is built right)."""
    c = figure_8(commit_previous_term_bug=True)
    assert c.raft(1).log.committed == 2


def test_5_4_2_figure_8_d_uncommitted_entry_is_overwritten():
    """§5.4.2, Figure 8 (d): "If S1 crashes ..., S5 could be elected leader (with votes from S2, S3, and S4) and
    overwrite the entry with its own entry from term 3." Had index 2 been committed, this would lose it."""
    c = figure_8()
    c.isolate(1)
    c.heal(5)
    c.restart(5)
    c.campaign(5)
    c.stabilize([2, 3, 4, 5])
    c.campaign(5)
    c.stabilize([2, 3, 4, 5])
    assert c.raft(5).role == Role.LEADER and c.raft(5).term == 4
    for n in (2, 3, 4, 5):
        assert c.raft(n).log.term(2) == 2  # S5's entry of term 2 replaced S1's entry of term 1
        assert c.nodes[n].state() == [b"b"]


def test_5_4_2_figure_8_e_entry_of_current_term_commits_preceding_ones():
    """§5.4.2, Figure 8 (e): "if S1 replicates an entry from its current term on a majority of the servers before
    crashing, ... then this entry is committed (S5 cannot win an election)" - and index 2 is committed with it
    (Log Matching)."""
    c = figure_8()
    c.process_ready(1)
    c.deliver([3])  # S1's own entry 3/3, sent after S3's acknowledgement of index 2
    c.process_ready(3)
    c.deliver([1])
    c.process_ready(1)
    assert c.raft(1).log.committed == 3
    assert c.nodes[1].state() == [b"a"]
    c.isolate(1)
    c.heal(5)
    c.restart(5)
    for _ in range(3):
        c.campaign(5)
        c.stabilize([2, 3, 4, 5])
        assert c.raft(5).role != Role.LEADER
    assert c.raft(2).log.term(3) == c.raft(3).log.term(3) == 3
