"""Tests of the extensions described in Ongaro's thesis ("Consensus: Bridging Theory and Practice", 2014), each
citing the section it checks: membership changes (chapter 4), leadership transfer (3.10), log compaction and
snapshots (chapter 5), CheckQuorum (6.2), ReadIndex and lease reads (6.4), PreVote (9.6), the leader's
parallel write to its disk (10.2.1), plus flow control and proposal errors (etcd-io/raft's API)."""

from __future__ import annotations

import math
import random

import pytest

from raft_harness import Cluster, new_cluster, wire
from tandemdb.raft.confchange import ConfChangeError
from tandemdb.raft.config import Config, ReadOnlyOption
from tandemdb.raft.errors import (
    ConfChangePendingError,
    LeaderTransferringError,
    NoLeaderError,
    NotLeaderError,
    TooManyUncommittedError,
)
from tandemdb.raft.progress import ProgressState
from tandemdb.raft.rawnode import RawNode
from tandemdb.raft.storage import MemoryStorage
from tandemdb.raft.types import (
    NONE,
    ConfChange,
    ConfChangeSingle,
    ConfChangeTransition,
    ConfChangeType,
    ConfState,
    Entry,
    HardState,
    Message,
    MessageType as MT,
    Role,
)

V, L, R = ConfChangeType.ADD_NODE, ConfChangeType.ADD_LEARNER, ConfChangeType.REMOVE_NODE


def cc(*changes: tuple[int, int], transition: int = ConfChangeTransition.AUTO) -> ConfChange:
    return ConfChange(changes=tuple(ConfChangeSingle(t, n) for t, n in changes), transition=transition)


def queued(c: Cluster, typ: MT, to: int | None = None, frm: int | None = None):
    return [m for m in c.queue if m.type == typ and (to is None or m.to == to) and (frm is None or m.frm == frm)]


def tick_until(c: Cluster, nodes, cond, limit: int = 200) -> int:
    """Tick ``nodes`` together (and let the reachable cluster settle) until ``cond()``; return the ticks."""
    for i in range(1, limit + 1):
        for n in nodes:
            c.tick(n)
        c.stabilize()
        if cond():
            return i
    raise AssertionError("condition not reached")


def step_round(c: Cluster) -> None:
    """One round: every node handles its Ready, then every queued message is delivered."""
    for n in sorted(c.nodes):
        if c.raw(n).has_ready():
            c.process_ready(n)
    c.deliver(sorted(c.nodes))


def elect_new_leader(c: Cluster, among) -> int:
    tick_until(c, among, lambda: any(c.raft(n).role == Role.LEADER for n in among))
    return next(n for n in among if c.raft(n).role == Role.LEADER)


# -- 9.6 PreVote --------------------------------------------------------------------------------------------------


def test_9_6_prevote_partitioned_node_does_not_bump_term():
    """Thesis 9.6: "the PreVote algorithm ... a candidate would first ask other servers whether its log was
    up-to-date enough to get their vote. Only if the candidate believed it could get votes from a majority of
    the cluster would it increment its term and start a normal election." A partitioned node therefore never
    raises its term, and when it rejoins the leader keeps its leadership."""
    c = new_cluster(3)
    c.elect(1)
    c.isolate(3)
    for _ in range(5):
        c.tick_election(3)
        c.process_ready(3)
    assert c.raft(3).role == Role.PRE_CANDIDATE and c.raft(3).term == 1
    assert c.nodes[3].storage.hard_state.term == 1
    c.propose(1, b"meanwhile")
    c.stabilize()
    c.heal()
    c.tick_election(3)  # its pre-votes now arrive, and are ignored or refused
    c.stabilize()
    c.tick_heartbeat(1)
    c.stabilize()
    assert c.raft(1).role == Role.LEADER and c.raft(1).term == 1
    assert c.raft(3).role == Role.FOLLOWER and c.raft(3).lead == 1 and c.raft(3).term == 1
    assert c.nodes[3].state() == [b"meanwhile"]


def test_9_6_without_prevote_a_rejoining_node_disrupts_the_leader():
    """Thesis 9.6 (the problem PreVote solves): "a server that is partitioned from the cluster ... will continue
    to increment its term ... when the partition heals, its higher term causes the current leader to step
    down". Shown here with PreVote and CheckQuorum off."""
    c = new_cluster(3, pre_vote=False, check_quorum=False)
    c.elect(1)
    c.isolate(3)
    for _ in range(3):
        c.tick_election(3)
        c.process_ready(3)
    assert c.raft(3).term == 4
    c.heal()
    c.tick_election(3)
    c.stabilize()
    assert c.raft(1).term >= 5  # the leader of term 1 was deposed although nothing was wrong with it
    assert c.raft(1).role == Role.FOLLOWER  # (3, whose log is as up to date, even took over)


def test_9_6_prevote_does_not_change_voter_state_and_checks_the_log():
    """Thesis 9.6: a pre-vote is granted only if the candidate's log is up to date (as a vote, §5.4.1), and
    granting it changes neither the voter's term nor its vote."""
    c = new_cluster(3)
    c.elect(1)
    c.isolate(1)
    c.tick_election(2)  # 2 lost its leader: it pre-campaigns
    c.process_ready(2)
    c.tick_election(3)  # so does 3: it has no leader any more, so it answers pre-votes
    assert (c.raft(3).term, c.raft(3).vote) == (1, 1)
    c.deliver([3])
    c.process_ready(3)
    (resp,) = queued(c, MT.PRE_VOTE_RESP, to=2)
    assert not resp.reject and resp.term == 2
    assert (c.raft(3).term, c.raft(3).vote) == (1, 1)  # unchanged by granting a pre-vote
    assert c.nodes[3].storage.hard_state.term == 1

    # A pre-candidate with a stale log is refused.
    c = new_cluster(3)
    c.elect(1)
    c.isolate(3)
    c.propose(1, b"x")
    c.stabilize()
    c.heal()
    c.isolate(1)
    c.tick_election(2)
    c.process_ready(2)
    c.tick_election(3)
    c.stabilize([2, 3])
    refusals = [m for m in c.delivered if m.type == MT.PRE_VOTE_RESP and m.to == 3]
    assert refusals and all(m.reject for m in refusals)
    assert c.raft(2).role == Role.LEADER and c.raft(3).lead == 2


def _ticks_until_leader(c: Cluster, among: list[int], limit: int = 100) -> int:
    for ticks in range(1, limit + 1):
        for nid in among:
            c.tick(nid)
        c.stabilize(among)
        if any(c.raft(n).role == Role.LEADER for n in among):
            return ticks
    raise AssertionError(f"no leader among {among} after {limit} ticks")


@pytest.mark.parametrize("size", [3, 5])
def test_followers_that_lose_the_leaders_connection_elect_a_new_one_at_once(size):
    """The transport reports the dead leader unreachable: its followers stop honouring its lease and campaign in
    turn by id, the first one tick later, instead of waiting out a whole randomized election timeout (10 to 19
    ticks here). Taking turns avoids a split vote: the first one wins, in the next term."""
    c = new_cluster(size)
    c.elect(1)
    c.isolate(1)  # the leader's process died
    followers = list(range(2, size + 1))
    for nid in followers:
        c.raw(nid).report_unreachable(1)
    assert _ticks_until_leader(c, followers) <= 2
    assert c.raft(2).role == Role.LEADER and c.raft(2).term == 2
    c = new_cluster(size)
    c.elect(1)
    c.isolate(1)
    assert _ticks_until_leader(c, followers) >= c.raft(2).cfg.election_tick  # without the report


def test_when_the_first_in_turn_is_gone_too_the_next_one_campaigns():
    c = new_cluster(5)
    c.elect(1)
    c.isolate(1)
    c.isolate(2)
    for nid in (3, 4, 5):
        c.raw(nid).report_unreachable(1)
    assert _ticks_until_leader(c, [3, 4, 5]) <= 4
    assert c.raft(3).role == Role.LEADER and c.raft(3).term == 2


def test_a_follower_that_alone_loses_the_leader_cannot_depose_it():
    """PreVote keeps the early campaign harmless: the other follower still hears the leader and refuses."""
    c = new_cluster(3)
    c.elect(1)
    c.raw(3).report_unreachable(1)  # only 3's connection to the leader broke
    for _ in range(c.raft(3).cfg.election_tick):
        c.tick(3)
        c.tick_heartbeat(1)
        c.stabilize()
    assert c.raft(1).role == Role.LEADER and c.raft(1).term == 1
    assert c.raft(3).term == 1 and c.nodes[3].storage.hard_state.term == 1


def test_lease_based_reads_keep_the_followers_honouring_the_lease():
    c = new_cluster(3, read_only_option=ReadOnlyOption.LEASE_BASED)
    c.elect(1)
    before = (c.raft(2).election_elapsed, c.raft(2).randomized_election_timeout)
    c.raw(2).report_unreachable(1)
    assert (c.raft(2).election_elapsed, c.raft(2).randomized_election_timeout) == before


# -- 6.2 CheckQuorum and 4.2.3 disruptive servers -----------------------------------------------------------------


def test_6_2_checkquorum_leader_cut_off_steps_down():
    """Thesis 6.2: "a leader [that] is partitioned from the rest of the cluster ... steps down if an election
    timeout elapses without a successful round of heartbeats to a majority of its cluster". The check runs once
    per election timeout, so the leader steps down at most two election timeouts after it was cut off."""
    c = new_cluster(3)
    c.elect(1)
    et = c.raft(1).cfg.election_tick
    c.isolate(1)
    ticks = 0
    while c.raft(1).role == Role.LEADER:
        c.tick(1)
        c.process_ready(1)
        ticks += 1
        assert ticks <= 2 * et
    assert c.raft(1).role == Role.FOLLOWER and c.raft(1).lead == NONE
    with pytest.raises(NoLeaderError):
        c.propose(1, b"x")


def test_6_2_checkquorum_leader_with_a_quorum_keeps_leading():
    """Thesis 6.2: with a majority still answering (here 3 of 5: the leader itself and two followers), the
    leader stays leader however long the others are gone."""
    c = new_cluster(5)
    c.elect(1)
    c.isolate(4)
    c.isolate(5)
    for _ in range(10 * c.raft(1).cfg.election_tick):
        c.tick(1)
        c.stabilize([1, 2, 3])
    assert c.raft(1).role == Role.LEADER and c.raft(1).term == 1
    c.propose(1, b"still leading")
    c.stabilize([1, 2, 3])
    assert c.nodes[2].state() == [b"still leading"]


def test_4_2_3_followers_ignore_votes_while_they_hear_from_a_leader():
    """Thesis 4.2.3: "if a server receives a RequestVote request within the minimum election timeout of hearing
    from a current leader, it does not update its term or grant its vote." (with CheckQuorum on)."""
    c = new_cluster(3, pre_vote=False)
    c.elect(1)
    c.isolate(3)
    c.tick_election(3)
    c.tick_election(3)  # 3 is now a candidate of term 3
    c.heal()
    c.process_ready(3)
    c.deliver([1, 2], msg_type=MT.VOTE)
    assert c.raft(1).term == 1 and c.raft(2).term == 1 and c.raft(2).vote == 1
    assert queued(c, MT.VOTE_RESP) == []


# -- 3.10 Leadership transfer ---------------------------------------------------------------------------------------


def test_3_10_transfer_to_up_to_date_follower():
    """Thesis 3.10: "The prior leader sends a TimeoutNow request to the target server. This request has the same
    effect as the target server's election timer firing: the target server starts a new election (incrementing
    its term and becoming a candidate)." The target skips PreVote and its vote is not ignored by followers that
    just heard from the old leader."""
    c = new_cluster(3)
    c.elect(1)
    c.raw(1).transfer_leader(3)
    c.process_ready(1)
    assert [m.to for m in queued(c, MT.TIMEOUT_NOW)] == [3]
    c.deliver([3])
    assert c.raft(3).role == Role.CANDIDATE and c.raft(3).term == 2
    c.process_ready(3)
    votes = queued(c, MT.VOTE, frm=3)
    assert len(votes) == 2 and not queued(c, MT.PRE_VOTE)
    c.stabilize()
    assert c.raft(3).role == Role.LEADER and c.raft(1).role == Role.FOLLOWER and c.raft(1).lead == 3


def test_3_10_proposals_refused_during_transfer_and_lagging_target_caught_up_first():
    """Thesis 3.10: "the prior leader ... stops accepting new client requests" and "the prior leader ... must
    transfer to the target all entries it is missing" before TimeoutNow."""
    c = new_cluster(3)
    c.elect(1)
    for d in (b"a", b"b", b"c"):
        c.propose(1, d)
    c.process_ready(1)
    c.deliver([2], drop=[3])
    c.stabilize([1, 2])
    assert c.raft(3).log.last_index() == 1 and c.raft(1).log.committed == 4
    c.raw(1).transfer_leader(3)
    with pytest.raises(LeaderTransferringError) as e:
        c.propose(1, b"refused")
    assert e.value.target == 3
    c.process_ready(1)
    assert queued(c, MT.TIMEOUT_NOW) == [] and queued(c, MT.APP, to=3)
    # Catch-up first: TimeoutNow goes out only after 3 acknowledged everything.
    while not queued(c, MT.TIMEOUT_NOW):
        assert c.raft(1).role == Role.LEADER
        c.deliver([3])
        c.process_ready(3)
        c.deliver([1])
        c.process_ready(1)
    assert c.raft(1).tracker.progress[3].match == c.raft(1).log.last_index()
    c.stabilize()
    assert c.raft(3).role == Role.LEADER
    assert c.nodes[3].state() == [b"a", b"b", b"c"]


def test_3_10_transfer_aborts_after_an_election_timeout():
    """Thesis 3.10: "If the transfer does not complete within about an election timeout, the prior leader aborts
    the transfer and resumes accepting client requests." """
    c = new_cluster(3)
    c.elect(1)
    c.isolate(3)
    c.raw(1).transfer_leader(3)
    with pytest.raises(LeaderTransferringError):
        c.propose(1, b"x")
    for _ in range(c.raft(1).cfg.election_tick):
        c.tick(1)
        c.stabilize([1, 2])
    assert c.raft(1).role == Role.LEADER and c.raft(1).lead_transferee == NONE
    c.propose(1, b"accepted again")
    c.stabilize([1, 2])
    assert c.nodes[2].state() == [b"accepted again"]


def test_3_10_transfer_requested_on_follower_targets_the_named_node():
    """A transfer asked of a follower is forwarded to the leader and must move leadership to the named target,
    not to the follower that forwarded it (regression: the forwarded message used to lose its sender)."""
    c = new_cluster(3)
    c.elect(1)
    c.raw(2).transfer_leader(3)
    c.stabilize()
    assert c.raft(3).role == Role.LEADER
    assert c.raft(2).role == Role.FOLLOWER


def test_3_10_transfer_to_self_or_learner_is_ignored():
    c = new_cluster(3, learners=[4])
    c.elect(1)
    c.raw(1).transfer_leader(1)
    c.raw(1).transfer_leader(4)
    assert c.raft(1).lead_transferee == NONE
    c.propose(1, b"fine")
    c.stabilize()
    assert c.raft(1).role == Role.LEADER and not [m for m in c.delivered if m.type == MT.TIMEOUT_NOW]


# -- 4.2.1 Learners (non-voting members) ---------------------------------------------------------------------------


def test_learners_receive_log_but_neither_vote_nor_count():
    """Thesis 4.2.1: new servers join as non-voting members: "the leader replicates log entries to them, but
    they are not yet counted towards majorities for the purpose of elections or commitment." """
    c = new_cluster(3, learners=[4])
    c.elect(1)
    assert all(m.to != 4 for m in c.delivered if m.type in (MT.VOTE, MT.PRE_VOTE))
    c.propose(1, b"a")
    c.stabilize()
    assert c.nodes[4].state() == [b"a"]
    # Not counted toward commitment: leader + learner are not a majority of the voters.
    c.isolate(2)
    c.isolate(3)
    c.propose(1, b"b")
    c.stabilize()
    assert c.raft(4).log.last_index() == c.raft(1).log.last_index()
    assert c.raft(1).log.committed == 2 and c.nodes[4].state() == [b"a"]
    # Never campaigns, however long it is without a leader.
    c.isolate(1)
    c.heal(2)
    for _ in range(10 * c.raft(4).cfg.election_tick):
        c.tick(4)
    c.campaign(4)
    c.stabilize([4])
    assert c.raft(4).role == Role.FOLLOWER and c.raft(4).term == 1


def test_learner_promoted_to_voter_then_counts():
    """Thesis 4.2.1: once caught up, the learner is promoted (a configuration change) and counts from then on."""
    c = new_cluster(3, learners=[4])
    c.elect(1)
    c.propose_conf_change(1, cc((V, 4)))
    c.stabilize()
    assert c.raft(1).tracker.config.voters == {1, 2, 3, 4}
    assert not c.raft(4).is_learner and c.raft(4).promotable()
    c.isolate(2)
    c.propose(1, b"x")  # 1, 3 and 4: three of four voters
    c.stabilize()
    assert c.nodes[4].state() == [b"x"]


# -- Chapter 4 Cluster membership changes --------------------------------------------------------------------------


def add_new_node(c: Cluster, leader: int, nid_kind: int = V) -> int:
    """Add a brand-new (empty) node: propose the change, apply it on the old members, then snapshot the leader's
    log so that the new node, whose log lacks the bootstrap configuration, starts from a snapshot."""
    old = sorted(c.nodes)
    (new,) = c.add_nodes(1)
    c.propose_conf_change(leader, cc((nid_kind, new)))
    c.stabilize(old)
    c.compact(leader, c.nodes[leader].applied)
    c.stabilize()
    return new


def test_4_1_add_voter_one_at_a_time():
    """Thesis 4.1: "Raft restricts the types of change that are allowed: only one server can be added or removed
    from the cluster at a time." The new server catches up, and majorities are counted over the new
    configuration as soon as it is applied."""
    c = new_cluster(3)
    c.elect(1)
    c.propose(1, b"before")
    c.stabilize()
    new = add_new_node(c, 1)
    assert new == 4
    assert c.raft(1).tracker.config.voters == {1, 2, 3, 4}
    assert c.raft(4).tracker.config.voters == {1, 2, 3, 4} and c.raft(4).promotable()
    assert c.nodes[4].state() == [b"before"]
    c.isolate(2)
    c.isolate(3)
    c.propose(1, b"needs 3 of 4")
    c.stabilize()
    assert c.raft(1).log.committed < c.raft(1).log.last_index()  # 1 and 4 are not a majority of four
    c.heal()
    c.tick_heartbeat(1)
    c.stabilize()
    assert c.nodes[4].state() == [b"before", b"needs 3 of 4"]


def test_4_1_node_added_to_a_log_bootstrapped_cluster_replays_the_configuration():
    """With the initial members written into the log as conf changes (etcd's Bootstrap; tandemdb.raft.bootstrap),
    a node added later needs no snapshot: it replays the log from index 1 and rebuilds the configuration."""
    bootstrap = pytest.importorskip("tandemdb.raft.bootstrap").bootstrap
    c = Cluster(quiet=True)
    for _ in range(3):
        st = MemoryStorage()
        bootstrap(st, [1, 2, 3])
        c.add_node(st)
    c.stabilize()  # every member applies the bootstrap configuration
    assert c.raft(1).tracker.config.voters == {1, 2, 3}
    c.elect(1)
    c.propose(1, b"x")
    c.stabilize()
    (new,) = c.add_nodes(1)
    c.propose_conf_change(1, cc((V, new)))
    c.stabilize()
    assert not [m for m in c.delivered if m.type == MT.SNAP]
    assert c.raft(new).tracker.config.voters == {1, 2, 3, 4}
    assert c.nodes[new].state() == [b"x"]


def test_4_1_remove_follower():
    c = new_cluster(3)
    c.elect(1)
    c.propose_conf_change(1, cc((R, 3)))
    c.stabilize()
    assert c.raft(1).tracker.config.voters == {1, 2} and 3 not in c.raft(1).tracker.progress
    c.isolate(3)
    c.propose(1, b"two of two")
    c.stabilize()
    assert c.nodes[2].state() == [b"two of two"]
    assert not c.raft(3).promotable()


def test_4_2_2_removed_leader_steps_down():
    """Thesis 4.2.2: a leader that is removed from the configuration steps down once the change is committed;
    the remaining servers then elect a new leader among themselves."""
    c = new_cluster(3)
    c.elect(1)
    c.propose_conf_change(1, cc((R, 1)))
    c.stabilize()
    assert c.raft(1).role == Role.FOLLOWER and not c.raft(1).promotable()
    with pytest.raises(NoLeaderError):
        c.propose(1, b"x")
    leader = elect_new_leader(c, [1, 2, 3])
    assert leader in (2, 3)
    assert c.raft(leader).tracker.config.voters == {2, 3}


def test_only_one_pending_conf_change():
    """Thesis 4.1: a new change may only start once the previous one is applied ("the leader ... should not
    start a new change until the previous one has committed" - here, applied, as etcd). A second proposal is
    refused with ConfChangePendingError (regression: the pending index used to be recorded as 0)."""
    c = new_cluster(3, learners=[4, 5])
    c.elect(1)
    c.propose_conf_change(1, cc((V, 4)))
    with pytest.raises(ConfChangePendingError):
        c.propose_conf_change(1, cc((V, 5)))
    c.process_ready(1)
    with pytest.raises(ConfChangePendingError):
        c.propose_conf_change(1, cc((V, 5)))  # replicated but not committed
    c.stabilize()
    c.propose_conf_change(1, cc((V, 5)))  # applied: the next one is accepted
    c.stabilize()
    assert c.raft(1).tracker.config.voters == {1, 2, 3, 4, 5}


def test_new_leader_accepts_no_conf_change_while_earlier_entries_are_unapplied():
    """The single-server change bug (Ongaro, raft-dev, 2015) and etcd's guard against it: a new leader starts no
    membership change before every entry that was in its log when it was elected is applied (they may hold a
    change of an earlier term; they are committed only with an entry of the new term, §5.4.2)."""
    c = Cluster(quiet=True)
    for _ in range(4):
        st = MemoryStorage(ConfState(voters=(1, 2, 3), learners=(4,)))
        st.append([Entry(1, 1), Entry(1, 2, data=b"old")])
        st.set_hard_state(HardState(term=1))
        c.add_node(st)
    c.campaign(1)
    while c.raft(1).role != Role.LEADER:
        step_round(c)
    assert c.raft(1).log.applied == 0
    with pytest.raises(ConfChangePendingError):
        c.propose_conf_change(1, cc((V, 4)))
    c.stabilize()
    assert c.nodes[1].state() == [b"old"]
    c.propose_conf_change(1, cc((V, 4)))
    c.stabilize()
    assert c.raft(1).tracker.config.voters == {1, 2, 3, 4}


def test_4_3_joint_consensus_needs_both_majorities():
    """Thesis 4.3: in the joint configuration C_old,new "agreement (for elections and entry commitment) requires
    separate majorities from both the old and new configurations." """
    c = new_cluster(3, learners=[4, 5])
    c.elect(1)
    c.propose_conf_change(1, cc((V, 4), (V, 5), (R, 2), (R, 3), transition=ConfChangeTransition.JOINT_EXPLICIT))
    c.stabilize()
    cfg = c.raft(1).tracker.config
    assert cfg.voters == {1, 4, 5} and cfg.voters_outgoing == {1, 2, 3}
    # A majority of the new configuration alone (1, 4, 5) does not commit "x".
    c.isolate(2)
    c.isolate(3)
    c.propose(1, b"x")
    c.stabilize()
    x = c.raft(1).log.last_index()
    assert c.raft(1).log.committed < x
    # A majority of the old configuration alone (1, 2, 3) does not commit "y" (but with 2 and 3 back, "x" is on
    # majorities of both halves and commits).
    c.heal()
    c.isolate(4)
    c.isolate(5)
    c.propose(1, b"y")
    c.stabilize()
    y = c.raft(1).log.last_index()
    assert c.raft(1).log.committed == x
    # Both halves: "y" commits.
    c.heal()
    c.tick_heartbeat(1)
    c.stabilize()
    assert c.raft(1).log.committed == y
    assert c.nodes[4].state() == [b"x", b"y"]


def test_4_3_joint_auto_leave_and_explicit_leave():
    """Thesis 4.3: "Once C_old,new has been committed ... the leader [creates] a log entry describing C_new". With
    an implicit (auto) transition the leader proposes the leave entry by itself; with an explicit one the
    configuration stays joint until the application proposes the (empty) leave change."""
    c = new_cluster(3, learners=[4])
    c.elect(1)
    c.propose_conf_change(1, cc((V, 4), (R, 3)))  # two changes: joint, left automatically
    c.stabilize()
    for n in (1, 2, 4):
        cfg = c.raft(n).tracker.config
        assert cfg.voters == {1, 2, 4} and not cfg.joint
    ents = c.raft(1).log.slice(1, c.raft(1).log.last_index() + 1)
    assert [ConfChange.decode(e.data).leave_joint() for e in ents if e.type == 1] == [False, True]

    c.propose_conf_change(1, cc((V, 3), transition=ConfChangeTransition.JOINT_EXPLICIT))
    c.stabilize()
    assert c.raft(1).tracker.config.joint  # stays joint
    with pytest.raises(ConfChangePendingError):
        c.propose_conf_change(1, cc((R, 4)))
    c.propose_conf_change(1, ConfChange())  # explicit leave
    c.stabilize()
    cfg = c.raft(1).tracker.config
    assert cfg.voters == {1, 2, 3, 4} and not cfg.joint
    with pytest.raises(ValueError):
        c.propose_conf_change(1, ConfChange())  # nothing to leave


def test_4_3_joint_demotion_through_learners_next():
    """A voter demoted to learner inside a joint change keeps voting in the outgoing half until the joint
    configuration is left (etcd's LearnersNext)."""
    c = new_cluster(3)
    c.elect(1)
    c.propose_conf_change(1, cc((L, 3), transition=ConfChangeTransition.JOINT_EXPLICIT))
    c.stabilize()
    cfg = c.raft(1).tracker.config
    assert cfg.voters == {1, 2} and cfg.voters_outgoing == {1, 2, 3} and cfg.learners_next == {3}
    assert c.raft(3).promotable()  # still a voter of the outgoing half
    c.propose_conf_change(1, ConfChange())
    c.stabilize()
    cfg = c.raft(1).tracker.config
    assert cfg.learners == {3} and not cfg.learners_next and c.raft(3).is_learner and not c.raft(3).promotable()


# -- 6.4 ReadIndex -----------------------------------------------------------------------------------------------------


def test_6_4_read_index_on_leader_needs_a_quorum_round():
    """Thesis 6.4: "1. ... the leader saves its current commit index in a local variable readIndex. ... 3. The
    leader needs to make sure it hasn't been superseded by a newer leader ... it issues a new round of
    heartbeats and waits for their acknowledgments from a majority of the cluster. ... 4. The leader waits for
    its state machine to advance at least as far as the readIndex." """
    c = new_cluster(3)
    c.elect(1)
    c.propose(1, b"x")
    c.stabilize()
    commit = c.raft(1).log.committed
    c.raw(1).read_index(b"ctx")
    rd = c.process_ready(1)
    assert rd.read_states == []
    beats = queued(c, MT.HEARTBEAT)
    assert len(beats) == 2 and all(m.context == b"ctx" for m in beats)
    c.deliver([2])
    c.process_ready(2)
    c.deliver([1])  # one follower + the leader: a majority of three
    rd = c.process_ready(1)
    assert [(rs.index, rs.context) for rs in rd.read_states] == [(commit, b"ctx")]
    # The late acknowledgement of node 3 produces nothing more.
    c.stabilize()
    assert c.nodes[1].read_states == rd.read_states


def test_6_4_read_index_through_follower():
    """Thesis 6.4.2: "followers ... could also help offload reads ... the follower issues a request to the leader
    to learn the current readIndex. The leader performs steps 1-3 ... then replies". """
    c = new_cluster(3)
    c.elect(1)
    c.propose(1, b"x")
    c.stabilize()
    c.raw(3).read_index(b"f")
    c.stabilize()
    assert [(rs.index, rs.context) for rs in c.nodes[3].read_states] == [(c.raft(1).log.committed, b"f")]
    assert c.nodes[1].read_states == []
    assert any(m.type == MT.HEARTBEAT and m.context == b"f" for m in c.delivered)


def test_6_4_new_leader_defers_reads_until_its_first_commit():
    """Thesis 6.4 step 1: "If the leader has not yet marked an entry from its current term committed, it waits
    until it has done so" - before that, its commit index may be stale."""
    c = new_cluster(3)
    c.campaign(1)
    while c.raft(1).role != Role.LEADER:
        step_round(c)
    c.raw(1).read_index(b"early")
    assert c.raft(1).pending_read_index and c.raft(1).log.committed == 0
    c.stabilize()
    (rs,) = c.nodes[1].read_states
    assert rs.context == b"early" and rs.index == 1 == c.raft(1).log.committed


def test_6_4_partitioned_leader_serves_no_read():
    """Thesis 6.4: a leader that may have been deposed must not answer: with no quorum acknowledgement no read
    state is ever produced, and when it steps down the pending read is dropped."""
    c = new_cluster(3)
    c.elect(1)
    c.isolate(1)
    c.raw(1).read_index(b"stale?")
    for _ in range(3):
        c.tick_heartbeat(1)
        c.process_ready(1)
    new = elect_new_leader(c, [2, 3])
    c.propose(new, b"newer")
    c.stabilize()
    assert c.nodes[1].read_states == []
    c.heal()
    c.tick_heartbeat(new)
    c.stabilize()
    assert c.raft(1).role == Role.FOLLOWER and c.nodes[1].read_states == []


def test_6_4_later_quorum_round_releases_earlier_reads():
    """An acknowledgement of a later heartbeat round also confirms the reads queued before it."""
    c = new_cluster(3)
    c.elect(1)
    c.raw(1).read_index(b"r1")
    c.raw(1).read_index(b"r2")
    c.process_ready(1)
    c.queue = [m for m in c.queue if m.context == b"r2"]  # the first round is lost
    c.stabilize()
    assert [rs.context for rs in c.nodes[1].read_states] == [b"r1", b"r2"]


def test_6_4_single_voter_reads_at_once():
    c = new_cluster(1)
    c.elect(1)
    c.raw(1).read_index(b"solo")
    rd = c.process_ready(1)
    assert [rs.context for rs in rd.read_states] == [b"solo"]
    with pytest.raises(ValueError):
        c.raw(1).read_index(b"")


# -- 6.4.1 Lease reads -------------------------------------------------------------------------------------------------


def lease_cluster(**opts) -> Cluster:
    c = new_cluster(3, read_only_option=ReadOnlyOption.LEASE_BASED, **opts)
    c.elect(1)
    c.tick_heartbeat(1)
    c.stabilize()  # one acknowledged heartbeat round: the lease starts
    return c


def test_6_4_1_lease_read_without_a_round_while_the_lease_holds():
    """Thesis 6.4.1: "the leader would use the normal heartbeat mechanism to maintain a lease ... it would then
    reply to read-only queries without contacting any other servers." """
    c = lease_cluster()
    r = c.raft(1)
    assert r.lease_valid()
    c.raw(1).read_index(b"lease")
    rd = c.process_ready(1)
    assert [(rs.index, rs.context) for rs in rd.read_states] == [(r.log.committed, b"lease")]
    assert not [m for m in rd.messages if m.context]


def test_6_4_1_lease_lapses_and_reads_fall_back_to_read_index():
    """Thesis 6.4.1: the lease lasts less than an election timeout (minus the clock-drift bound) after the
    heartbeat a quorum acknowledged; once it lapsed, a read needs a quorum round again."""
    c = lease_cluster(election_tick=10, max_clock_drift_ticks=2)
    r = c.raft(1)
    sent_at = max(pr.lease_tick for n, pr in r.tracker.progress.items() if n != 1)
    ticks = 0
    while r.lease_valid():
        c.tick(1)  # heartbeats go out but no acknowledgement comes back
        ticks += 1
    assert r.ticks - sent_at == 10 - 2
    c.queue.clear()
    c.raw(1).read_index(b"late")
    rd = c.process_ready(1)
    assert rd.read_states == []
    assert len([m for m in rd.messages if m.type == MT.HEARTBEAT and m.context == b"late"]) == 2
    c.stabilize()
    assert [rs.context for rs in c.nodes[1].read_states] == [b"late"]


def test_6_4_1_no_lease_before_a_quorum_acknowledged_a_heartbeat():
    c = new_cluster(3, read_only_option=ReadOnlyOption.LEASE_BASED)
    c.elect(1)  # appends were acknowledged, but no heartbeat yet
    assert not c.raft(1).lease_valid()
    c.raw(1).read_index(b"x")
    rd = c.process_ready(1)
    assert rd.read_states == [] and any(m.context == b"x" for m in rd.messages)


def test_6_4_1_lease_ends_during_leader_transfer():
    """A transfer makes followers vote at once (they ignore their lease), so the leader's lease must end."""
    c = lease_cluster()
    assert c.raft(1).lease_valid()
    c.raw(1).transfer_leader(2)
    assert not c.raft(1).lease_valid()


def test_6_4_1_lease_expires_before_anyone_else_can_be_elected():
    """Thesis 6.4.1 safety argument: while the isolated leader still believes in its lease, no other node can
    have become leader (all clocks tick at the same rate here; the drift bound covers slower leader clocks)."""
    c = lease_cluster(election_tick=10, max_clock_drift_ticks=2)
    c.isolate(1)
    saw_expiry = False
    for _ in range(60):
        for n in (1, 2, 3):
            c.tick(n)
        c.stabilize()
        others = [n for n in (2, 3) if c.raft(n).role == Role.LEADER]
        if c.raft(1).role == Role.LEADER and c.raft(1).lease_valid():
            assert not others, "a new leader exists while the old one still holds its lease"
        else:
            saw_expiry = True
    assert saw_expiry and [n for n in (2, 3) if c.raft(n).role == Role.LEADER]


def test_6_4_1_lease_reads_need_checkquorum():
    """Config.validate refuses lease reads without CheckQuorum (a leader without it may never step down) and a
    drift bound outside [0, election_tick)."""
    st = MemoryStorage(ConfState(voters=(1,)))
    with pytest.raises(ValueError, match="check_quorum"):
        RawNode(Config(id=1, storage=st, rng=random.Random(1), read_only_option=ReadOnlyOption.LEASE_BASED,
                       check_quorum=False))  # fmt: skip
    with pytest.raises(ValueError):
        Config(id=1, storage=st, rng=random.Random(1), read_only_option=ReadOnlyOption.LEASE_BASED,
               max_clock_drift_ticks=10).validate()  # fmt: skip
    Config(id=1, storage=st, rng=random.Random(1), read_only_option=ReadOnlyOption.LEASE_BASED).validate()


# -- Chapter 5 Log compaction, snapshots -------------------------------------------------------------------------------


def lagging_follower_cluster(chunk: int = 7, values: int = 8) -> Cluster:
    c = new_cluster(3, snapshot_chunk_size=chunk)
    c.elect(1)
    c.isolate(3)
    for i in range(values):
        c.propose(1, f"value-{i}".encode())
    c.stabilize()
    c.compact(1, c.nodes[1].applied)
    c.propose(1, b"after-snapshot")
    c.stabilize()
    c.heal()
    return c


@pytest.mark.parametrize("order", ["in-order", "reverse", "shuffled"])
def test_5_chunked_snapshot_to_lagging_follower(order):
    """Thesis 5.1 / 5.4: "the leader must occasionally send its snapshot to followers that lag behind ... The
    leader uses a new RPC called InstallSnapshot to send snapshots to followers that are too far behind"; the
    snapshot is "sent in chunks" (Figure 5.3's offset/data/done fields). Here the chunks may arrive in any
    order; the follower installs the snapshot once it has all of them, then catches up through appends."""
    c = lagging_follower_cluster()
    snap = c.nodes[1].storage.snapshot()
    n_chunks = math.ceil(len(snap.data) / 7)
    assert n_chunks >= 3
    c.tick_heartbeat(1)
    for _ in range(10):
        c.stabilize([1, 2])
        c.process_ready(3)
        if queued(c, MT.SNAP):
            break
        c.deliver([3])
        c.process_ready(3)
        c.deliver([1])
    c.stabilize([1, 2])
    chunks = queued(c, MT.SNAP, to=3)
    assert len(chunks) == n_chunks
    assert sorted(m.snap_offset for m in chunks) == list(range(0, len(snap.data), 7))
    assert c.raft(1).tracker.progress[3].state == ProgressState.SNAPSHOT
    c.queue = [m for m in c.queue if m.type != MT.SNAP]
    if order == "reverse":
        chunks.reverse()
    elif order == "shuffled":
        random.Random(4).shuffle(chunks)
    for i, m in enumerate(chunks):
        c.raw(3).step(m)
        installed = c.raft(3).log.unstable.snapshot is not None
        assert installed == (i == len(chunks) - 1)
    c.stabilize()
    assert c.nodes[3].state() == c.nodes[1].state()
    assert c.nodes[3].storage.snapshot().meta.index == snap.meta.index
    assert c.raft(3).log.last_index() == c.raft(1).log.last_index()
    assert c.raft(1).tracker.progress[3].state == ProgressState.REPLICATE
    # The entry after the snapshot arrived as an ordinary append.
    appends_to_3 = [m for m in c.delivered if m.type == MT.APP and m.to == 3]
    assert any(e.data == b"after-snapshot" for m in appends_to_3 for e in m.entries)


def test_5_lost_snapshot_chunk_is_resent():
    """A lost chunk leaves the follower waiting; after a while (two election timeouts of the leader's clock) the
    leader probes the follower again and resends the snapshot."""
    c = lagging_follower_cluster()
    c.tick_heartbeat(1)
    for _ in range(10):
        c.stabilize([1, 2])
        if queued(c, MT.SNAP):
            break
        c.deliver([3])
        c.process_ready(3)
        c.deliver([1])
    lost = queued(c, MT.SNAP)[1]
    c.queue.remove(lost)
    c.stabilize()
    assert c.nodes[3].applied < c.nodes[1].applied
    for _ in range(4 * c.raft(1).cfg.election_tick):
        c.tick(1)
        c.stabilize()
    assert c.nodes[3].state() == c.nodes[1].state()


def test_5_snapshot_of_entries_the_follower_has_only_moves_its_commit():
    """A follower that already holds the snapshot's last entry keeps its log (and any entries after it) and
    just advances its commit index (etcd's restore semantics)."""
    c = new_cluster(3)
    c.elect(1)
    c.propose(1, b"a")
    c.propose(1, b"b")
    c.stabilize()
    r3 = c.raft(3)
    snap = c.nodes[1].storage.create_snapshot(2, c.nodes[1].conf_state_at(2), b"a")
    assert r3.restore(snap) is False
    assert r3.log.last_index() == 3 and r3.log.first_index() == 1


def test_5_restart_from_snapshot():
    """After compaction, a restarted node rebuilds its state machine from the snapshot and re-applies the rest."""
    c = new_cluster(3)
    c.elect(1)
    for d in (b"a", b"b", b"c"):
        c.propose(1, d)
    c.stabilize()
    c.compact(2, 3)
    c.restart(2)
    c.stabilize()
    assert c.nodes[2].state() == [b"a", b"b", b"c"]
    assert c.raft(2).log.first_index() == 4


# -- flow control ------------------------------------------------------------------------------------------------------


def replicating_cluster(**opts) -> Cluster:
    c = new_cluster(3, **opts)
    c.elect(1)
    c.propose(1, b"warm-up")
    c.stabilize()  # every follower in REPLICATE
    assert all(pr.state == ProgressState.REPLICATE for pr in c.raft(1).tracker.progress.values())
    return c


def test_flow_control_max_inflight_msgs():
    """Pipelining (thesis 10.2) is bounded: at most ``max_inflight_msgs`` appends are in flight to one follower;
    a slow follower does not receive an unbounded stream."""
    c = replicating_cluster(max_inflight_msgs=3)
    for i in range(20):
        c.propose(1, b"x%d" % i)
        c.stabilize([1, 2])  # 3 is slow: its messages stay queued
    apps = [m for m in queued(c, MT.APP, to=3) if m.entries]
    assert len(apps) == 3
    assert len(c.nodes[2].state()) == 21  # the fast follower is not held back
    c.stabilize()
    assert c.nodes[3].state() == c.nodes[1].state()


def test_flow_control_full_window_reopens_when_the_follower_answers_heartbeats():
    """A follower that was down while the leader's window filled up (every append lost) must catch up once it
    answers heartbeats again: the heartbeat response frees a slot of the full window (as etcd). Regression:
    the leader used to stay paused forever, so the follower never caught up (with the default window of 256,
    after 256 proposals during an outage)."""
    c = replicating_cluster(max_inflight_msgs=4)
    c.isolate(3)
    for i in range(10):
        c.propose(1, b"x%d" % i)
        c.stabilize()
    assert c.raft(1).tracker.progress[3].inflights.full()
    c.heal()
    for _ in range(10):
        c.tick_heartbeat(1)
        c.stabilize()
    assert c.raft(3).log.last_index() == c.raft(1).log.last_index()
    assert len(c.nodes[3].state()) == 11


def test_flow_control_max_inflight_bytes():
    c = replicating_cluster(max_inflight_bytes=250)
    for _ in range(10):
        c.propose(1, bytes(100))
        c.stabilize([1, 2])
    apps = [m for m in queued(c, MT.APP, to=3) if m.entries]
    assert sum(len(e.data) for m in apps for e in m.entries) <= 300
    assert len(apps) == 3
    c.stabilize()
    assert len(c.nodes[3].state()) == 11


def test_flow_control_max_size_per_msg():
    c = replicating_cluster(max_size_per_msg=250)
    c.isolate(3)
    for _ in range(10):
        c.propose(1, bytes(100))
    c.stabilize()
    c.heal()
    c.tick_heartbeat(1)
    c.stabilize()
    apps = [m for m in c.delivered if m.type == MT.APP and m.to == 3 and m.entries]
    assert apps and all(sum(len(e.data) for e in m.entries) <= 250 for m in apps)
    assert len(c.nodes[3].state()) == 11


def test_flow_control_max_uncommitted_entries_size():
    """Proposals are refused with TooManyUncommittedError once more than ``max_uncommitted_entries_size`` bytes
    are uncommitted (an empty window always admits one proposal); committing frees the window."""
    c = replicating_cluster(max_uncommitted_entries_size=300)
    c.isolate(2)
    c.isolate(3)
    c.propose(1, bytes(200))
    c.propose(1, bytes(100))
    with pytest.raises(TooManyUncommittedError) as e:
        c.propose(1, bytes(1))
    assert e.value.limit == 300
    c.heal()
    c.tick_heartbeat(1)
    c.stabilize()
    c.propose(1, bytes(250))
    c.stabilize()
    assert len(c.nodes[2].state()) == 4
    # A single proposal larger than the limit is admitted into an empty window.
    c.propose(1, bytes(1000))


# -- proposals ---------------------------------------------------------------------------------------------------------


def test_proposal_without_leader_raises_no_leader():
    c = new_cluster(3)
    with pytest.raises(NoLeaderError):
        c.propose(1, b"x")
    c.campaign(1)  # a pre-candidate has no leader either
    with pytest.raises(NoLeaderError):
        c.propose(1, b"x")


def test_proposal_on_follower_with_forwarding_disabled_names_the_leader():
    c = new_cluster(3, disable_proposal_forwarding=True)
    c.elect(2)
    with pytest.raises(NotLeaderError) as e:
        c.propose(1, b"x")
    assert e.value.leader == 2
    assert c.queue == []


def test_proposal_forwarded_and_refused_by_leader_is_dropped_quietly():
    """A forwarded proposal the leader cannot take (here: a transfer is in progress) is dropped; the follower
    retries after its own timeout."""
    c = new_cluster(3)
    c.elect(1)
    c.isolate(3)
    c.raw(1).transfer_leader(3)
    c.propose(2, b"forwarded")
    c.stabilize([1, 2])
    assert b"forwarded" not in c.nodes[1].state()
    assert c.raft(1).role == Role.LEADER


def test_empty_proposal_is_refused():
    c = new_cluster(1)
    c.elect(1)
    with pytest.raises(ValueError):
        c.raw(1).propose_batch([])


# -- persistence and 10.2.1 --------------------------------------------------------------------------------------------


def test_restart_keeps_term_vote_and_log():
    """Figure 2 ("Persistent state on all servers: currentTerm, votedFor, log[]"): a restarted node remembers its
    vote, so it cannot vote twice in a term."""
    c = new_cluster(3, pre_vote=False, check_quorum=False)
    c.elect(1)
    c.propose(1, b"kept")
    c.stabilize()
    c.isolate(1)
    c.campaign(2)
    c.process_ready(2)
    c.deliver([3])
    c.process_ready(3)  # 3 voted for 2 in term 2 (persisted with the response)
    assert c.nodes[3].storage.hard_state.vote == 2
    c.restart(3)
    r3 = c.raft(3)
    assert (r3.term, r3.vote, r3.log.last_index(), r3.log.committed) == (2, 2, 2, 2)
    vote = wire([m for m in c.delivered if m.type == MT.VOTE and m.to == 3][-1])
    assert (vote.frm, vote.term) == (2, 2)
    vote.frm = 1  # another candidate of the same term, with an up-to-date log
    c.raw(3).step(vote)
    (resp,) = c.raw(3).raft.msgs
    assert resp.reject
    c.stabilize()
    assert c.nodes[3].state() == [b"kept"]


def test_whole_cluster_restart_loses_nothing():
    c = new_cluster(3)
    c.elect(1)
    for d in (b"a", b"b"):
        c.propose(1, d)
    c.stabilize()
    for n in (1, 2, 3):
        c.restart(n)
    c.stabilize()
    for n in (1, 2, 3):
        assert c.nodes[n].state() == [b"a", b"b"]
        assert c.raft(n).role == Role.FOLLOWER
    leader = elect_new_leader(c, [1, 2, 3])
    c.propose(leader, b"c")
    c.stabilize()
    assert all(c.nodes[n].state() == [b"a", b"b", b"c"] for n in (1, 2, 3))


def test_acknowledgements_travel_in_the_ready_that_persists_them():
    """Persistence order (DESIGN 2; thesis 3.8/11.7): a vote or an append acknowledgement leaves the node only
    together with the hard state / entries that justify it, in the same Ready, which the application persists
    before sending."""
    c = new_cluster(3, pre_vote=False)
    c.campaign(1)
    c.process_ready(1)
    c.deliver([2])
    rd = c.raw(2).ready()
    assert any(m.type == MT.VOTE_RESP and not m.reject for m in rd.messages)
    assert rd.hard_state is not None and rd.hard_state.vote == 1 and rd.must_sync
    c.raw(2).advance(rd)
    c.nodes[2].storage.set_hard_state(rd.hard_state)
    c.send(rd.messages)
    c.stabilize()
    c.propose(1, b"x")
    c.process_ready(1)
    c.deliver([2])
    rd = c.raw(2).ready()
    acks = [m for m in rd.messages if m.type == MT.APP_RESP]
    assert acks and max(m.index for m in acks) <= rd.entries[-1].index and rd.must_sync


def test_10_2_1_leader_counts_itself_only_once_durable():
    """Thesis 10.2.1: "the leader [may write] to its disk in parallel with replicating to the followers ...
    [it] counts itself towards the majority only once its own write completes". Here the leader's appends go
    out before it persists its Ready; a follower's acknowledgement alone (1 of 3) must not commit."""
    c = new_cluster(3)
    c.elect(1)
    leader = c.raw(1)
    c.propose(1, b"x")
    rd = leader.ready()
    assert rd.entries and rd.entries[-1].data == b"x"
    c.send(rd.messages)  # sent before the leader's own write
    c.deliver([2])
    c.process_ready(2)
    c.deliver([1])  # node 2's ack: with the leader counted, that would be a majority
    assert c.raft(1).log.committed == rd.entries[-1].index - 1
    c.nodes[1].storage.append(rd.entries)
    leader.advance(rd)  # now durable
    assert c.raft(1).log.committed == rd.entries[-1].index
    c.stabilize()
    assert c.nodes[3].state() == [b"x"]


def test_conf_change_removing_every_voter_fails_to_apply():
    """A change that would leave no voter cannot be applied (etcd: "removed all voters")."""
    c = new_cluster(1)
    c.elect(1)
    c.propose_conf_change(1, cc((R, 1)))
    with pytest.raises(ConfChangeError):
        c.stabilize()


def _restarted_voter(term: int, lease: bool) -> RawNode:
    st = MemoryStorage(ConfState(voters=(1, 2, 3)))
    st.set_hard_state(HardState(term=term, vote=0, commit=0))
    option = ReadOnlyOption.LEASE_BASED if lease else ReadOnlyOption.SAFE
    return RawNode(Config(id=2, storage=st, rng=random.Random(2), election_tick=10, read_only_option=option))


def _vote_request(term: int) -> Message:
    return Message(type=MT.VOTE, to=2, frm=3, term=term, index=0, log_term=0)


def test_6_4_1_a_restarted_voter_keeps_the_lease_it_may_have_granted():
    """Thesis 6.4.1: a follower promises not to vote for an election timeout after hearing from the leader. A
    node that restarts cannot remember when it last did, so with lease reads it grants no vote until a full
    election timeout has passed since it started."""
    n = _restarted_voter(term=5, lease=True)
    n.step(_vote_request(term=6))
    rd = n.ready()
    assert not [m for m in rd.messages if m.type == MT.VOTE_RESP]  # ignored while the old lease may hold
    n.advance(rd)
    for _ in range(10):
        n.tick()
    n.step(_vote_request(term=7))
    assert [m.reject for m in n.ready().messages if m.type == MT.VOTE_RESP] == [False]


def test_6_4_1_without_leases_or_on_first_boot_a_voter_votes_at_once():
    for node in (_restarted_voter(term=5, lease=False), _restarted_voter(term=1, lease=True)):
        node.step(_vote_request(term=6))
        assert [m.reject for m in node.ready().messages if m.type == MT.VOTE_RESP] == [False]
