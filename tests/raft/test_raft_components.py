"""Unit tests of the consensus layer's building blocks: quorum arithmetic (checked against brute force),
the log and its fast-backtracking search (against etcd's linear scan), progress and in-flight windows,
MemoryStorage, membership-change arithmetic, configuration validation and the Ready/Advance protocol."""

from __future__ import annotations

import itertools
import random

import msgspec
import pytest
from hypothesis import given, settings, strategies as st

from tandemdb.raft.confchange import Changer, ConfChangeError
from tandemdb.raft.config import Config
from tandemdb.raft.log import RaftLog
from tandemdb.raft.progress import Inflights, Progress, ProgressState
from tandemdb.raft.quorum import INFINITE, VoteResult, joint_committed, joint_vote, majority_committed, majority_vote
from tandemdb.raft.rawnode import RawNode
from tandemdb.raft.storage import CompactedError, MemoryStorage, SnapshotOutOfDateError, UnavailableError
from tandemdb.raft.tracker import ProgressTracker, TrackerConfig
from tandemdb.raft.types import (
    ConfChange,
    ConfChangeSingle,
    ConfChangeTransition,
    ConfChangeType,
    ConfState,
    Entry,
    Message,
    MessageType as MT,
    Snapshot,
    SnapshotMeta,
)

# -- quorum (thesis 4.3: joint majorities) -----------------------------------------------------------------------------

# Hypothesis runs derandomized (a fixed seed): the suite is deterministic.
voter_sets = st.sets(st.integers(1, 7), max_size=5)


def brute_committed(voters, match) -> int:
    if not voters:
        return INFINITE
    q = len(voters) // 2 + 1
    best = 0
    for x in set(match.get(v, 0) for v in voters) | {0}:
        if sum(match.get(v, 0) >= x for v in voters) >= q:
            best = max(best, x)
    return best


def brute_vote(voters, votes) -> VoteResult:
    if not voters:
        return VoteResult.WON
    q = len(voters) // 2 + 1
    granted = sum(votes.get(v) is True for v in voters)
    missing = sum(v not in votes for v in voters)
    if granted >= q:
        return VoteResult.WON
    if granted + missing >= q:
        return VoteResult.PENDING
    return VoteResult.LOST


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(voter_sets, voter_sets, st.dictionaries(st.integers(1, 7), st.integers(0, 20)))
def test_committed_index_matches_brute_force(incoming, outgoing, match):
    assert majority_committed(incoming, match) == brute_committed(incoming, match)
    assert joint_committed(incoming, outgoing, match) == min(
        brute_committed(incoming, match), brute_committed(outgoing, match)
    )


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(voter_sets, voter_sets, st.dictionaries(st.integers(1, 7), st.booleans()))
def test_vote_result_matches_brute_force(incoming, outgoing, votes):
    assert majority_vote(incoming, votes) == brute_vote(incoming, votes)
    a, b = brute_vote(incoming, votes), brute_vote(outgoing, votes)
    expected = a if a == b else (VoteResult.LOST if VoteResult.LOST in (a, b) else VoteResult.PENDING)
    assert joint_vote(incoming, outgoing, votes) == expected


def test_joint_quorum_examples():
    # (1 2 3)&&(1 4 5): 1 and 2 are a majority of the first half only.
    assert joint_vote({1, 2, 3}, {1, 4, 5}, {1: True, 2: True}) == VoteResult.PENDING
    assert joint_vote({1, 2, 3}, {1, 4, 5}, {1: True, 2: True, 4: True}) == VoteResult.WON
    assert joint_vote({1, 2, 3}, {1, 4, 5}, {2: False, 3: False}) == VoteResult.LOST
    assert joint_committed({1, 2, 3}, {1, 4, 5}, {1: 9, 2: 9, 3: 9, 4: 2, 5: 1}) == 2
    assert joint_committed({1, 2, 3}, (), {1: 5, 2: 4, 3: 1}) == 4


# -- the log and fast backtracking (§5.3) -----------------------------------------------------------------------------


def log_of(terms: list[int], compact_to: int = 0, unstable_from: int | None = None) -> RaftLog:
    """A RaftLog whose entries have the given terms; entries from ``unstable_from`` on are unstable."""
    st_ = MemoryStorage(ConfState(voters=(1,)))
    ents = [Entry(t, i) for i, t in enumerate(terms, 1)]
    split = len(ents) if unstable_from is None else unstable_from - 1
    st_.append(ents[:split])
    if compact_to:
        st_.create_snapshot(compact_to, ConfState(voters=(1,)), b"")
        st_.compact(compact_to)
    log = RaftLog(st_)
    if ents[split:]:
        log.append(ents[split:])
    return log


def etcd_find_conflict_by_term(log: RaftLog, index: int, term: int) -> tuple[int, int]:
    """etcd-io/raft's raftLog.findConflictByTerm: a linear scan downward."""
    while index > 0:
        t = log.term(index)
        if t is None:
            return index, 0
        if t <= term:
            return index, t
        index -= 1
    return 0, 0


nondecreasing_terms = st.lists(st.integers(1, 4), max_size=25).map(sorted)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(nondecreasing_terms, st.data())
def test_find_conflict_by_term_matches_linear_scan(terms, data):
    split = data.draw(st.integers(1, len(terms) + 1))
    log = log_of(terms, unstable_from=split)
    index = data.draw(st.integers(0, len(terms)))
    term = data.draw(st.integers(0, 5))
    assert log.find_conflict_by_term(index, term) == etcd_find_conflict_by_term(log, index, term)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(nondecreasing_terms.filter(lambda t: len(t) >= 3), st.data())
def test_find_conflict_by_term_after_compaction(terms, data):
    """With a compacted prefix the answer may be "unknown" (term 0), but it never points above ``index`` and
    a known term is never above ``term`` - so the leader never skips entries that might match."""
    compact_to = data.draw(st.integers(1, len(terms) - 1))
    log = log_of(terms, compact_to=compact_to)
    index = data.draw(st.integers(0, len(terms)))
    term = data.draw(st.integers(0, 5))
    i, t = log.find_conflict_by_term(index, term)
    assert i <= index
    if t:
        assert t <= term and log.term(i) == t
        assert all(log.term(j) > term for j in range(i + 1, index + 1))


def test_log_slice_spans_stable_and_unstable_with_size_limit():
    log = log_of([1, 1, 2, 2, 3], unstable_from=3)
    assert [e.index for e in log.slice(1, 6)] == [1, 2, 3, 4, 5]
    assert [e.index for e in log.unstable.entries] == [3, 4, 5]
    big = log_of([1] * 4)
    big.append([Entry(1, 5, data=b"x" * 10), Entry(1, 6, data=b"y" * 10)])
    assert [e.index for e in big.slice(5, 7, max_bytes=5)] == [5]  # at least one entry
    assert [e.index for e in big.slice(1, 7, max_bytes=15)] == [1, 2, 3, 4, 5]
    compacted = log_of([1, 1, 1, 1], compact_to=2)
    assert compacted.slice(1, 3) is None
    assert compacted.term(2) == 1 and compacted.term(1) is None


def test_log_maybe_append_and_conflicts():
    log = log_of([1, 2, 3])
    assert log.maybe_append(3, 2, 0, []) is None  # prev (3, 2) does not match
    assert log.maybe_append(1, 1, 0, [Entry(2, 2), Entry(3, 3)]) == 3  # all match: nothing truncated
    assert log.last_index() == 3 and log.unstable.entries == []
    assert log.maybe_append(1, 1, 2, [Entry(4, 2)]) == 2  # conflict at 2: 2 and 3 replaced
    assert [log.term(i) for i in (1, 2)] == [1, 4] and log.last_index() == 2
    assert log.committed == 2
    with pytest.raises(AssertionError):
        log.maybe_append(1, 1, 2, [Entry(5, 2)])  # would replace a committed entry
    assert log.is_up_to_date(2, 4) and log.is_up_to_date(5, 5) and not log.is_up_to_date(3, 3)


def test_unstable_entries_survive_a_late_advance_of_replaced_entries():
    """Advancing a Ready whose entries were meanwhile replaced (a new leader truncated them) must not mark the
    replacement stable (term check of Unstable.stable_to, as etcd)."""
    log = log_of([1, 1], unstable_from=2)
    old_last = log.unstable.entries[-1]
    log.maybe_append(1, 1, 0, [Entry(2, 2), Entry(2, 3)])
    log.unstable.stable_to(old_last.index, old_last.term)  # the stale Ready's entry 2 of term 1
    assert [e.term for e in log.unstable.entries] == [2, 2]


# -- progress and in-flight windows (thesis 10.2 pipelining) -----------------------------------------------------------


def test_inflights_bounded_by_count_and_bytes():
    inf = Inflights(3, 100)
    inf.add(1, 10)
    inf.add(2, 10)
    assert not inf.full()
    inf.add(3, 10)
    assert inf.full()
    inf.free_le(2)
    assert inf.count() == 1 and inf.bytes == 10 and not inf.full()
    inf.add(4, 95)
    assert inf.full()  # bytes
    inf.free_le(10)
    assert inf.count() == 0 and inf.bytes == 0


def test_progress_probe_replicate_snapshot_transitions():
    pr = Progress(6, Inflights(4, 1 << 20))
    assert pr.state == ProgressState.PROBE and not pr.is_paused()
    pr.probe_sent = True
    assert pr.is_paused()
    assert not pr.maybe_decr_to(3, 2)  # stale: not the probe we sent (next - 1 == 5)
    assert pr.maybe_decr_to(5, 2) and pr.next == 3 and not pr.probe_sent
    assert pr.maybe_update(4) and pr.match == 4 and pr.next == 5
    pr.become_replicate()
    assert pr.next == 5
    pr.optimistic_update(9)
    pr.inflights.add(9, 0)
    assert not pr.maybe_decr_to(4, 0)  # rejection at or below match: stale
    assert pr.maybe_decr_to(7, 0) and pr.next == 5
    pr.become_snapshot(20)
    assert pr.is_paused() and pr.pending_snapshot == 20
    pr.become_probe()
    assert pr.state == ProgressState.PROBE and pr.next == 21  # after the snapshot, not before it


# -- storage -----------------------------------------------------------------------------------------------------------


def test_memory_storage_append_compact_snapshot():
    s = MemoryStorage(ConfState(voters=(1, 2, 3)))
    assert (s.first_index(), s.last_index()) == (1, 0)
    s.append([Entry(1, 1), Entry(1, 2), Entry(1, 3)])
    s.append([Entry(2, 3), Entry(2, 4)])  # replaces the conflicting suffix
    assert [s.term(i) for i in range(0, 5)] == [0, 1, 1, 2, 2]
    with pytest.raises(ValueError):
        s.append([Entry(2, 9)])  # a gap
    snap = s.create_snapshot(3, ConfState(voters=(1, 2, 3)), b"state")
    assert (snap.meta.index, snap.meta.term) == (3, 2)
    s.compact(3)
    assert (s.first_index(), s.last_index(), s.term(3)) == (4, 4, 2)
    with pytest.raises(CompactedError):
        s.term(2)
    with pytest.raises(CompactedError):
        s.entries(3, 5)
    with pytest.raises(UnavailableError):
        s.entries(4, 6)
    with pytest.raises(SnapshotOutOfDateError):
        s.create_snapshot(2, ConfState(voters=(1,)), b"")
    s.append([Entry(1, 2), Entry(2, 3), Entry(2, 4), Entry(3, 5)])  # the compacted part is ignored
    assert s.last_index() == 5
    s.apply_snapshot(Snapshot(SnapshotMeta(10, 4, ConfState(voters=(1,))), b"later"))
    assert (s.first_index(), s.last_index(), s.term(10)) == (11, 10, 4)
    with pytest.raises(SnapshotOutOfDateError):
        s.apply_snapshot(Snapshot(SnapshotMeta(9, 4, ConfState(voters=(1,))), b""))


def test_memory_storage_entries_size_limit():
    s = MemoryStorage()
    s.append([Entry(1, i, data=b"x" * 10) for i in range(1, 6)])
    assert len(s.entries(1, 6, max_bytes=25)) == 2
    assert len(s.entries(1, 6, max_bytes=0)) == 1
    assert len(s.entries(1, 6)) == 5


# -- membership-change arithmetic --------------------------------------------------------------------------------------


def tracker(cs: ConfState) -> ProgressTracker:
    from tandemdb.raft.confchange import restore

    t = ProgressTracker(16, 1 << 20)
    restore(t, cs, 1)
    return t


def ch(*pairs):
    return tuple(ConfChangeSingle(t, n) for t, n in pairs)


V, L, R = ConfChangeType.ADD_NODE, ConfChangeType.ADD_LEARNER, ConfChangeType.REMOVE_NODE


def test_changer_simple_and_joint_rules():
    t = tracker(ConfState(voters=(1, 2, 3)))
    cfg, prs = Changer(t, 10).simple(ch((V, 4)))
    assert cfg.voters == {1, 2, 3, 4} and prs[4].next == 10 and not prs[4].is_learner
    assert 4 not in t.progress  # the current tracker is untouched
    with pytest.raises(ConfChangeError):
        Changer(t, 10).simple(ch((V, 4), (V, 5)))  # two voters at once need joint consensus
    with pytest.raises(ConfChangeError):
        Changer(t, 10).simple(ch((R, 1), (R, 2), (R, 3)))
    cfg, prs = Changer(t, 10).simple(ch((L, 3)))  # demote: one voter changes
    assert cfg.voters == {1, 2} and cfg.learners == {3} and prs[3].is_learner

    cfg, prs = Changer(t, 10).enter_joint(True, ch((V, 4), (R, 1)))
    assert cfg.voters == {2, 3, 4} and cfg.voters_outgoing == {1, 2, 3} and cfg.auto_leave
    assert 1 in prs  # still a voter of the outgoing half
    t.config, t.progress = cfg, prs
    with pytest.raises(ConfChangeError):
        Changer(t, 10).enter_joint(False, ch((V, 5)))
    with pytest.raises(ConfChangeError):
        Changer(t, 10).simple(ch((V, 5)))
    cfg, prs = Changer(t, 10).leave_joint()
    assert cfg.voters == {2, 3, 4} and not cfg.joint and not cfg.auto_leave and 1 not in prs
    t.config, t.progress = cfg, prs
    with pytest.raises(ConfChangeError):
        Changer(t, 10).leave_joint()


def test_conf_change_transitions():
    assert ConfChange().leave_joint()
    assert ConfChange(changes=ch((V, 2))).enters_joint() == (False, False)
    assert ConfChange(changes=ch((V, 2), (V, 3))).enters_joint() == (True, True)
    explicit = ConfChange(changes=ch((V, 2)), transition=ConfChangeTransition.JOINT_EXPLICIT)
    assert explicit.enters_joint() == (True, False)
    assert not ConfChange(transition=ConfChangeTransition.JOINT_EXPLICIT).leave_joint()
    cc = ConfChange(changes=ch((V, 2), (L, 3)), transition=ConfChangeTransition.JOINT_IMPLICIT, context=b"c")
    assert ConfChange.decode(cc.encode()) == cc


def test_tracker_config_round_trips_through_conf_state():
    cs = ConfState(voters=(1, 2), learners=(4,), voters_outgoing=(1, 2, 3), learners_next=(3,), auto_leave=True)
    assert TrackerConfig.from_conf_state(cs).conf_state() == cs


# -- configuration and the Ready/Advance protocol ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [dict(id=0), dict(heartbeat_tick=0), dict(election_tick=1, heartbeat_tick=1), dict(max_inflight_msgs=0),
     dict(bugs=frozenset({"no_such_bug"}))],
)  # fmt: skip
def test_config_validate_refuses_bad_settings(kwargs):
    args = dict(id=1, storage=MemoryStorage(ConfState(voters=(1,))), rng=random.Random(1)) | kwargs
    with pytest.raises(ValueError):
        Config(**args).validate()


def test_rawnode_ready_advance_protocol():
    rn = RawNode(Config(id=1, storage=MemoryStorage(ConfState(voters=(1,))), rng=random.Random(1)))
    assert not rn.has_ready()
    rn.campaign()
    assert rn.has_ready()
    rd = rn.ready()
    with pytest.raises(RuntimeError):
        rn.ready()  # the previous Ready was not advanced
    with pytest.raises(RuntimeError):
        from tandemdb.raft.rawnode import Ready

        rn.advance(Ready())
    rn.raft.log.storage.append(rd.entries)
    rn.advance(rd)
    with pytest.raises(ValueError):
        rn.step(Message(type=MT.HUP, frm=2))  # local messages never come from the network
    rd = rn.ready()
    assert [e.index for e in rd.committed_entries] == [1]  # the single voter committed its empty entry
    rn.advance(rd)
    assert not rn.has_ready()


def test_messages_survive_the_wire():
    m = Message(
        type=MT.SNAP, to=2, frm=1, term=3, entries=[Entry(3, 4, 1, b"d")], context=b"c",
        snapshot=Snapshot(SnapshotMeta(4, 3, ConfState(voters=(1, 2), learners=(3,))), b"chunk"), snap_offset=5,
        snap_size=10,
    )  # fmt: skip
    back = msgspec.msgpack.decode(msgspec.msgpack.encode(m), type=Message)
    assert back == m
    assert list(itertools.islice(iter(back.entries), 1))[0].data == b"d"
