"""The Raft state machine: roles, elections, replication, commitment, reads, leader transfer, membership and
snapshot transfer. Section numbers refer to the Raft paper (Ongaro & Ousterhout, 2014) and Ongaro's thesis.

Pure: messages to send are appended to ``self.msgs``; ticks are the only notion of time; randomness comes from
the injected ``Config.rng``. ``RawNode`` wraps this class with the Ready/Advance protocol.
"""

from __future__ import annotations

from .confchange import Changer, restore as restore_config
from .config import Config, ReadOnlyOption
from .errors import (
    ConfChangePendingError,
    LeaderTransferringError,
    NoLeaderError,
    NotLeaderError,
    TooManyUncommittedError,
)
from .log import RaftLog
from .progress import Progress, ProgressState
from .quorum import VoteResult
from .read_only import ReadOnly
from .tracker import ProgressTracker
from .types import (
    NONE,
    ConfChange,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType as MT,
    ReadState,
    Role,
    Snapshot,
    SoftState,
)

CAMPAIGN_PRE_ELECTION = b"pre"
CAMPAIGN_ELECTION = b"election"
CAMPAIGN_TRANSFER = b"transfer"

_VOTE_RESP: dict[int, MT] = {MT.VOTE: MT.VOTE_RESP, MT.PRE_VOTE: MT.PRE_VOTE_RESP}  # Message.type is an int


def payload_size(ents: list[Entry]) -> int:
    return sum(len(e.data) for e in ents)


class Raft:
    def __init__(self, cfg: Config) -> None:
        cfg.validate()
        self.id = cfg.id
        self.cfg = cfg
        self.bugs = cfg.bugs
        self.rng = cfg.rng
        self.log = RaftLog(cfg.storage)
        self.tracker = ProgressTracker(cfg.max_inflight_msgs, cfg.max_inflight_bytes)
        self.msgs: list[Message] = []
        self.read_states: list[ReadState] = []
        self.pending_read_index: list[Message] = []  # reads waiting for this term's first commit
        self.term = 0
        self.vote = NONE
        self.lead = NONE
        self.role = Role.FOLLOWER
        self.is_learner = False
        self.lead_transferee = NONE
        self.pending_conf_index = 0
        self.uncommitted_size = 0
        self.read_only = ReadOnly()
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.ticks = 0  # ticks since start: the leader's clock for leases
        self.randomized_election_timeout = cfg.election_tick
        self.snapshot_chunks: dict[int, bytes] = {}  # follower: chunks of the snapshot being received
        self.snapshot_receiving: tuple[int, int] | None = None  # (index, term) of that snapshot

        hs, cs = cfg.storage.initial_state()
        restore_config(self.tracker, cs, self.log.last_index() + 1)
        self.is_learner = self.id in self.tracker.config.learners
        if hs != HardState():
            if not self.log.committed <= hs.commit <= self.log.last_index():
                raise AssertionError(f"hard state commit {hs.commit} out of range")
            self.log.committed = hs.commit
            self.term, self.vote = hs.term, hs.vote
        if cfg.applied:
            self.log.applied_to(cfg.applied)
        # With lease reads, a node restarted after it followed a leader (terms past the bootstrap term 1) may
        # have promised that leader, before it crashed, not to vote for anyone else for an election timeout:
        # it keeps the promise by granting no vote until one has passed.
        lease = cfg.read_only_option is ReadOnlyOption.LEASE_BASED
        self.hold_votes_ticks = cfg.election_tick if lease and self.term > 1 else 0
        self.become_follower(self.term, NONE)

    # -- state views --------------------------------------------------------------------------------------------
    def hard_state(self) -> HardState:
        return HardState(self.term, self.vote, self.log.committed)

    def soft_state(self) -> SoftState:
        return SoftState(self.lead, self.role)

    def promotable(self) -> bool:
        return self.id in self.tracker.progress and not self.is_learner and self.tracker.is_voter(self.id)

    # -- sending ------------------------------------------------------------------------------------------------
    def send(self, m: Message) -> None:
        if m.frm == NONE:
            m.frm = self.id  # a forwarded message (TRANSFER_LEADER: its target) keeps its sender (as etcd)
        if m.type in (MT.VOTE, MT.VOTE_RESP, MT.PRE_VOTE, MT.PRE_VOTE_RESP):
            # Votes carry the term they are for (a pre-vote's is the future term).
            if m.term == 0:
                raise AssertionError(f"term must be set for {MT(m.type).name}")
        elif m.type != MT.PROP and m.type != MT.READ_INDEX:
            m.term = self.term
        self.msgs.append(m)

    def maybe_send_append(self, to: int, send_if_empty: bool = True) -> bool:
        """Send entries (or a snapshot) to ``to`` as its progress allows (§5.3; pipelining in thesis 10.2)."""
        pr = self.tracker.progress[to]
        if pr.is_paused():
            return False
        prev_index = pr.next - 1
        prev_term = self.log.term(prev_index)
        ents = self.log.entries_from(pr.next, self.cfg.max_size_per_msg)
        if prev_term is None or ents is None:
            return self.send_snapshot(to)
        if not ents and not send_if_empty:
            return False
        if ents:
            if pr.state == ProgressState.REPLICATE:
                last = ents[-1].index
                pr.optimistic_update(last)
                pr.inflights.add(last, payload_size(ents))
            elif pr.state == ProgressState.PROBE:
                pr.probe_sent = True
        elif pr.state == ProgressState.PROBE:
            pr.probe_sent = True
        self.send(
            Message(type=MT.APP, to=to, index=prev_index, log_term=prev_term, entries=ents, commit=self.log.committed)
        )
        return True

    def send_snapshot(self, to: int) -> bool:
        """The follower needs compacted entries: send the snapshot in chunks (thesis 5.1)."""
        pr = self.tracker.progress[to]
        if not pr.recent_active:
            return False
        snap = self.log.snapshot()
        if snap.is_empty():
            raise AssertionError("need a snapshot but none is available")
        pr.become_snapshot(snap.meta.index)
        size, chunk = len(snap.data), self.cfg.snapshot_chunk_size
        for off in range(0, max(size, 1), chunk):
            part = Snapshot(snap.meta, snap.data[off : off + chunk])
            self.send(Message(type=MT.SNAP, to=to, snapshot=part, snap_offset=off, snap_size=size))
        return True

    def bcast_append(self) -> None:
        for to in self.tracker.peers():
            if to != self.id:
                self.maybe_send_append(to)

    def bcast_heartbeat(self, ctx: bytes | None = None) -> None:
        if ctx is None:
            ctx = self.read_only.last_pending_ctx()
        for to in self.tracker.peers():
            if to != self.id:
                pr = self.tracker.progress[to]
                commit = min(pr.match, self.log.committed)
                # ``index`` carries our tick at sending, echoed back, so the lease counts from the send time.
                self.send(Message(type=MT.HEARTBEAT, to=to, commit=commit, context=ctx, index=self.ticks))

    # -- role changes ---------------------------------------------------------------------------------------------
    def reset(self, term: int) -> None:
        if self.term != term:
            self.term = term
            self.vote = NONE
        self.lead = NONE
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_election_timeout = self.cfg.election_tick + self.rng.randrange(self.cfg.election_tick)
        self.lead_transferee = NONE
        self.tracker.reset_votes()
        last = self.log.last_index()
        for node in self.tracker.progress:
            old = self.tracker.progress[node]
            pr = self.tracker.new_progress(last + 1, old.is_learner)
            if node == self.id:
                pr.match = self.log.stable_last_index()  # a leader counts only what it made durable
            self.tracker.progress[node] = pr
        self.pending_conf_index = 0
        self.uncommitted_size = 0
        self.read_only = ReadOnly()
        self.pending_read_index = []

    def become_follower(self, term: int, lead: int) -> None:
        self.reset(term)
        self.lead = lead
        self.role = Role.FOLLOWER

    def become_pre_candidate(self) -> None:
        if self.role == Role.LEADER:
            raise AssertionError("leader cannot become pre-candidate")
        # A pre-candidate changes neither term nor vote (thesis 9.6).
        self.role = Role.PRE_CANDIDATE
        self.tracker.reset_votes()
        self.lead = NONE

    def become_candidate(self) -> None:
        if self.role == Role.LEADER:
            raise AssertionError("leader cannot become candidate")
        self.reset(self.term + 1)
        self.vote = self.id
        self.role = Role.CANDIDATE

    def become_leader(self) -> None:
        if self.role == Role.FOLLOWER:
            raise AssertionError("follower cannot become leader")
        self.reset(self.term)
        self.lead = self.id
        self.role = Role.LEADER
        self.tracker.progress[self.id].become_replicate()
        # The leader is always active; CHECK_QUORUM never clears its own flag (as etcd's becomeLeader).
        self.tracker.progress[self.id].recent_active = True
        # No conf change until this term's no-op is applied (the single-server change fix on raft-dev, 2015).
        self.pending_conf_index = self.log.last_index()
        # The empty entry commits everything of earlier terms indirectly (§5.4.2) and enables ReadIndex (§6.4).
        self.append_entries([Entry(term=0, index=0)], count_size=False)

    # -- the public inputs ----------------------------------------------------------------------------------------
    def tick(self) -> None:
        self.ticks += 1
        if self.role == Role.LEADER:
            self.tick_heartbeat()
        else:
            self.tick_election()

    def tick_election(self) -> None:
        self.election_elapsed += 1
        if self.promotable() and self.election_elapsed >= self.randomized_election_timeout:
            self.election_elapsed = 0
            self.step(Message(type=MT.HUP, frm=self.id))

    def tick_heartbeat(self) -> None:
        self.heartbeat_elapsed += 1
        self.election_elapsed += 1
        for pr in self.tracker.progress.values():
            if pr.state == ProgressState.SNAPSHOT:
                pr.snapshot_ticks += 1
                if pr.snapshot_ticks > 2 * self.cfg.election_tick:
                    pr.become_probe()  # chunks were lost or the follower restarted: probe, then resend
        if self.election_elapsed >= self.cfg.election_tick:
            self.election_elapsed = 0
            if self.cfg.check_quorum:
                self.step(Message(type=MT.CHECK_QUORUM, frm=self.id))
            if self.role == Role.LEADER and self.lead_transferee != NONE:
                self.lead_transferee = NONE  # the transfer timed out (thesis 3.10)
        if self.role != Role.LEADER:
            return
        if self.heartbeat_elapsed >= self.cfg.heartbeat_tick:
            self.heartbeat_elapsed = 0
            self.step(Message(type=MT.BEAT, frm=self.id))

    def step(self, m: Message) -> None:
        if m.term == 0:
            pass  # local message
        elif m.term > self.term:
            if m.type in (MT.VOTE, MT.PRE_VOTE):
                force = m.context == CAMPAIGN_TRANSFER
                in_lease = (
                    self.cfg.check_quorum and self.lead != NONE and self.election_elapsed < self.cfg.election_tick
                )
                if self.ticks < self.hold_votes_ticks:
                    in_lease = True
                if not force and in_lease:
                    # We heard from a leader within the minimum election timeout: ignore (thesis 4.2.3).
                    return
            if m.type == MT.PRE_VOTE or (m.type == MT.PRE_VOTE_RESP and not m.reject):
                pass  # a pre-vote does not change our term
            elif m.type in (MT.APP, MT.HEARTBEAT, MT.SNAP):
                self.become_follower(m.term, m.frm)
            else:
                self.become_follower(m.term, NONE)
        elif m.term < self.term:
            if (self.cfg.check_quorum or self.cfg.pre_vote) and m.type in (MT.HEARTBEAT, MT.APP):
                # Tell the stale leader about our term so that it steps down (thesis 9.6).
                self.send(Message(type=MT.APP_RESP, to=m.frm))
            elif m.type == MT.PRE_VOTE:
                self.send(Message(type=MT.PRE_VOTE_RESP, to=m.frm, term=self.term, reject=True))
            return

        t = m.type
        if t == MT.HUP:
            self.hup(CAMPAIGN_PRE_ELECTION if self.cfg.pre_vote else CAMPAIGN_ELECTION)
        elif t == MT.VOTE or t == MT.PRE_VOTE:
            self.handle_vote_request(m)
        elif self.role == Role.LEADER:
            self.step_leader(m)
        elif self.role == Role.FOLLOWER:
            self.step_follower(m)
        else:
            self.step_candidate(m)

    # -- elections (§5.2, thesis 9.6 PreVote) ------------------------------------------------------------------
    def hup(self, kind: bytes) -> None:
        if self.role == Role.LEADER or not self.promotable():
            return
        if self.has_unapplied_conf_change():
            return  # its configuration may not include us; campaign once it is applied
        self.campaign(kind)

    def has_unapplied_conf_change(self) -> bool:
        if self.log.applied >= self.log.committed:
            return False
        ents = self.log.slice(self.log.applied + 1, self.log.committed + 1) or []
        return any(e.type == EntryType.CONF_CHANGE for e in ents)

    def campaign(self, kind: bytes) -> None:
        if kind == CAMPAIGN_PRE_ELECTION:
            self.become_pre_candidate()
            vote_type, term = MT.PRE_VOTE, self.term + 1
        else:
            self.become_candidate()
            vote_type, term = MT.VOTE, self.term
        if self.poll(self.id, True) == VoteResult.WON:
            # A single-voter configuration wins at once.
            if kind == CAMPAIGN_PRE_ELECTION:
                self.campaign(CAMPAIGN_ELECTION)
            else:
                self.become_leader()
            return
        ctx = CAMPAIGN_TRANSFER if kind == CAMPAIGN_TRANSFER else b""
        last = self.log.last_index()
        last_term = self.log.last_term()
        for to in self.tracker.voter_ids():
            if to != self.id:
                self.send(Message(type=vote_type, to=to, term=term, index=last, log_term=last_term, context=ctx))

    def poll(self, node: int, granted: bool) -> VoteResult:
        self.tracker.record_vote(node, granted)
        return self.tracker.tally_votes()[2]

    def handle_vote_request(self, m: Message) -> None:
        can_vote = (
            self.vote == m.frm
            or (self.vote == NONE and self.lead == NONE)
            or (m.type == MT.PRE_VOTE and m.term > self.term)
        )
        up_to_date = "vote_without_log_check" in self.bugs or self.log.is_up_to_date(m.index, m.log_term)
        if can_vote and up_to_date:
            self.send(Message(type=_VOTE_RESP[m.type], to=m.frm, term=m.term))
            if m.type == MT.VOTE:
                self.election_elapsed = 0
                self.vote = m.frm
        else:
            self.send(Message(type=_VOTE_RESP[m.type], to=m.frm, term=self.term, reject=True))

    # -- leader --------------------------------------------------------------------------------------------------
    def step_leader(self, m: Message) -> None:
        t = m.type
        if t == MT.BEAT:
            self.bcast_heartbeat()
            return
        if t == MT.CHECK_QUORUM:
            if not self.tracker.quorum_active():
                self.become_follower(self.term, NONE)  # thesis 6.2: a leader that cannot reach a quorum steps down
            for node, progress in self.tracker.progress.items():
                if node != self.id:
                    progress.recent_active = False
            return
        if t == MT.PROP:
            self.handle_proposal(m)
            return
        if t == MT.READ_INDEX:
            self.handle_read_index(m)
            return

        pr = self.tracker.progress.get(m.frm)
        if pr is None:
            return
        if t == MT.APP_RESP:
            self.handle_append_response(m, pr)
        elif t == MT.HEARTBEAT_RESP:
            pr.recent_active = True
            pr.probe_sent = False
            pr.lease_tick = max(pr.lease_tick, m.index)
            if pr.state == ProgressState.REPLICATE and pr.inflights.full():
                # The follower is alive but the window is full: its appends or their acknowledgements were lost.
                # Free one slot so that an append goes out and replication resumes (as etcd).
                pr.inflights.free_first_one()
            if pr.match < self.log.last_index():
                self.maybe_send_append(m.frm)
            if m.context:
                acks = self.read_only.recv_ack(m.frm, m.context)
                if acks is not None and self.tracker.vote_result(acks) == VoteResult.WON:
                    for rs in self.read_only.advance(m.context):
                        self.respond_read(rs.request, rs.index)
        elif t == MT.UNREACHABLE:
            if pr.state == ProgressState.REPLICATE:
                pr.become_probe()
        elif t == MT.TRANSFER_LEADER:
            self.handle_transfer_leader(m, pr)

    def handle_proposal(self, m: Message) -> None:
        if not m.entries:
            raise ValueError("empty proposal")
        if self.id not in self.tracker.progress:
            raise NotLeaderError(NONE)  # removed from the configuration and stepping down
        if self.lead_transferee != NONE:
            raise LeaderTransferringError(self.lead_transferee)
        for e in m.entries:
            if e.type == EntryType.CONF_CHANGE:
                self.check_conf_change(ConfChange.decode(e.data))
        first = self.log.last_index() + 1
        if not self.append_entries(m.entries):
            raise TooManyUncommittedError(self.cfg.max_uncommitted_entries_size)
        for i, e in enumerate(m.entries):
            if e.type == EntryType.CONF_CHANGE:
                # ``m.entries`` are unstamped (index 0): the log holds stamped copies at first, first + 1, ...
                self.pending_conf_index = first + i
        self.bcast_append()

    def check_conf_change(self, cc: ConfChange) -> None:
        if self.pending_conf_index > self.log.applied:
            raise ConfChangePendingError()
        joint = self.tracker.config.joint
        if joint and not cc.leave_joint():
            raise ConfChangePendingError()
        if not joint and cc.leave_joint():
            raise ValueError("not in a joint configuration: nothing to leave")

    def append_entries(self, ents: list[Entry], count_size: bool = True) -> bool:
        last = self.log.last_index()
        size = payload_size(ents) if count_size else 0
        # Flow control: refuse once too much is uncommitted, but always admit one proposal into an empty window.
        if size and self.uncommitted_size and self.uncommitted_size + size > self.cfg.max_uncommitted_entries_size:
            return False
        self.uncommitted_size += size
        term = self.term
        stamped = [Entry(term, last + i, e.type, e.data) for i, e in enumerate(ents, 1)]
        self.log.append(stamped)
        # The leader's own progress advances only when the entries are durable (RawNode.advance; thesis 10.2.1).
        return True

    def on_persisted(self, index: int) -> None:
        """The application made the log durable up to ``index``: the leader may now count itself."""
        if self.role != Role.LEADER:
            return
        pr = self.tracker.progress.get(self.id)
        if pr is not None and pr.maybe_update(index) and self.maybe_commit():
            self.bcast_append()

    def maybe_commit(self) -> bool:
        """Advance the commit index to what a quorum holds, if that entry is of this term (§5.4.2)."""
        committed = self.log.maybe_commit(self.tracker.committed(), self.term, "commit_previous_term" in self.bugs)
        if committed and self.pending_read_index and self.committed_entry_in_current_term():
            pending, self.pending_read_index = self.pending_read_index, []
            for m in pending:
                self.handle_read_index(m)
        return committed

    def committed_entry_in_current_term(self) -> bool:
        return self.log.term(self.log.committed) == self.term

    def handle_append_response(self, m: Message, pr: Progress) -> None:
        pr.recent_active = True
        if m.reject:
            next_probe = m.reject_hint
            if m.log_term > 0:
                next_probe, _ = self.log.find_conflict_by_term(m.reject_hint, m.log_term)
            if pr.maybe_decr_to(m.index, next_probe):
                if pr.state == ProgressState.REPLICATE:
                    pr.become_probe()
                self.maybe_send_append(m.frm)
            return
        was_paused = pr.is_paused()
        if not pr.maybe_update(m.index):
            return
        if pr.state == ProgressState.PROBE:
            pr.become_replicate()
        elif pr.state == ProgressState.SNAPSHOT and pr.match >= pr.pending_snapshot:
            pr.become_probe()
            pr.become_replicate()
        elif pr.state == ProgressState.REPLICATE:
            pr.inflights.free_le(m.index)
        if self.maybe_commit():
            self.bcast_append()
        elif was_paused:
            self.maybe_send_append(m.frm)
        while self.maybe_send_append(m.frm, send_if_empty=False):
            pass
        if m.frm == self.lead_transferee and pr.match == self.log.last_index():
            self.send(Message(type=MT.TIMEOUT_NOW, to=m.frm))

    def handle_transfer_leader(self, m: Message, pr: Progress) -> None:
        """Thesis 3.10: catch the target up, then tell it to start an election at once."""
        target = m.frm
        if pr.is_learner:
            return
        if self.lead_transferee == target or target == self.id:
            return
        self.lead_transferee = target
        self.election_elapsed = 0
        if pr.match == self.log.last_index():
            self.send(Message(type=MT.TIMEOUT_NOW, to=target))
        else:
            self.maybe_send_append(target)

    # -- reads (thesis 6.4) ---------------------------------------------------------------------------------------
    def handle_read_index(self, m: Message) -> None:
        if "stale_leader_read" in self.bugs:
            self.respond_read(m, self.log.committed)  # bug switch: no leadership check at all
            return
        if len(self.tracker.voter_ids()) == 1 and self.tracker.is_voter(self.id):
            self.respond_read(m, self.log.committed)
            return
        if not self.committed_entry_in_current_term():
            self.pending_read_index.append(m)  # the commit index may lag until this term's no-op commits
            return
        if self.cfg.read_only_option is ReadOnlyOption.LEASE_BASED and self.lease_valid():
            self.respond_read(m, self.log.committed)
            return
        self.read_only.add_request(self.log.committed, m)
        self.read_only.recv_ack(self.id, m.context)
        self.bcast_heartbeat(m.context)

    def lease_valid(self) -> bool:
        """Thesis 6.4.1: a quorum acknowledged a heartbeat sent less than (election timeout - drift) ago, and
        until then no voter grants another candidate its vote. A transfer forces votes, so it ends the lease."""
        if self.lead_transferee != NONE:
            return False
        acks = {
            node: (node == self.id or pr.lease_tick >= 0 and self.ticks - pr.lease_tick < self.lease_ticks())
            for node, pr in self.tracker.progress.items()
        }
        return self.tracker.vote_result(acks) == VoteResult.WON

    def lease_ticks(self) -> int:
        return self.cfg.election_tick - self.cfg.max_clock_drift_ticks

    def respond_read(self, req: Message, index: int) -> None:
        if req.frm in (NONE, self.id):
            self.read_states.append(ReadState(index, req.context))
        else:
            self.send(Message(type=MT.READ_INDEX_RESP, to=req.frm, index=index, context=req.context))

    # -- follower and candidate ---------------------------------------------------------------------------------
    def leader_lost(self) -> None:
        """The transport lost its connection to the leader, most often because the leader's process died: stop
        honouring the leader's lease and campaign after a few ticks instead of a whole election timeout.

        The followers take turns by id, two ticks apart (the lowest first), so that they do not tie and split the
        vote, as a random pick among so few ticks often would. Timing never decides safety in Raft, and PreVote
        keeps this from disrupting a leader that is alive: the peers that still hear it refuse the pre-vote, so an
        election succeeds only when a majority has lost the leader, as it would after the timeout. Not with
        lease-based reads, whose safety rests on every follower honouring the lease."""
        if not self.cfg.pre_vote or self.cfg.read_only_option is ReadOnlyOption.LEASE_BASED:
            return
        if self.election_elapsed < self.cfg.election_tick and self.promotable():
            turn = sorted(self.tracker.config.all_voters() - {self.lead}).index(self.id)
            self.election_elapsed = self.cfg.election_tick
            self.randomized_election_timeout = self.cfg.election_tick + min(1 + 2 * turn, self.cfg.election_tick)

    def step_follower(self, m: Message) -> None:
        t = m.type
        if t == MT.PROP:
            if self.lead == NONE:
                raise NoLeaderError()
            if self.cfg.disable_proposal_forwarding:
                raise NotLeaderError(self.lead)
            m.to = self.lead
            self.send(m)
        elif t == MT.APP:
            self.election_elapsed = 0
            self.lead = m.frm
            self.handle_append(m)
        elif t == MT.HEARTBEAT:
            self.election_elapsed = 0
            self.lead = m.frm
            self.handle_heartbeat(m)
        elif t == MT.SNAP:
            self.election_elapsed = 0
            self.lead = m.frm
            self.handle_snapshot(m)
        elif t == MT.TRANSFER_LEADER:
            if self.lead != NONE:
                m.to = self.lead
                self.send(m)
        elif t == MT.TIMEOUT_NOW:
            if self.promotable():
                self.campaign(CAMPAIGN_TRANSFER)  # thesis 3.10: skip PreVote and force the vote
        elif t == MT.UNREACHABLE:
            if m.frm == self.lead:
                self.leader_lost()
        elif t == MT.READ_INDEX:
            if self.lead == NONE:
                raise NoLeaderError()
            m.to = self.lead
            self.send(m)
        elif t == MT.READ_INDEX_RESP:
            self.read_states.append(ReadState(m.index, m.context))

    def step_candidate(self, m: Message) -> None:
        t = m.type
        my_resp = MT.PRE_VOTE_RESP if self.role == Role.PRE_CANDIDATE else MT.VOTE_RESP
        if t == MT.PROP or t == MT.READ_INDEX:
            raise NoLeaderError()
        if t == MT.APP:
            self.become_follower(m.term, m.frm)  # a leader of our term exists (§5.2)
            self.handle_append(m)
        elif t == MT.HEARTBEAT:
            self.become_follower(m.term, m.frm)
            self.handle_heartbeat(m)
        elif t == MT.SNAP:
            self.become_follower(m.term, m.frm)
            self.handle_snapshot(m)
        elif t == my_resp:
            result = self.poll(m.frm, not m.reject)
            if result == VoteResult.WON:
                if self.role == Role.PRE_CANDIDATE:
                    self.campaign(CAMPAIGN_ELECTION)
                else:
                    self.become_leader()
                    self.bcast_append()
            elif result == VoteResult.LOST:
                self.become_follower(self.term, NONE)

    def handle_append(self, m: Message) -> None:
        if m.index < self.log.committed:
            self.send(Message(type=MT.APP_RESP, to=m.frm, index=self.log.committed))
            return
        last = self.log.maybe_append(
            m.index,
            m.log_term,
            m.commit,
            m.entries,
            truncate_always="truncate_matching_suffix" in self.bugs,
        )
        if last is not None:
            self.send(Message(type=MT.APP_RESP, to=m.frm, index=last))
            return
        # Reject with a hint for fast backtracking: our largest index whose term is <= the leader's (§5.3).
        hint_index = min(m.index, self.log.last_index())
        hint_index, hint_term = self.log.find_conflict_by_term(hint_index, m.log_term)
        self.send(
            Message(type=MT.APP_RESP, to=m.frm, index=m.index, reject=True, reject_hint=hint_index, log_term=hint_term)
        )

    def handle_heartbeat(self, m: Message) -> None:
        self.log.commit_to(min(m.commit, self.log.last_index()))
        self.send(Message(type=MT.HEARTBEAT_RESP, to=m.frm, context=m.context, index=m.index))

    def handle_snapshot(self, m: Message) -> None:
        """Collect a snapshot's chunks (they may arrive out of order) and install it once complete."""
        assert m.snapshot is not None
        meta = m.snapshot.meta
        if meta.index <= self.log.committed:
            self.snapshot_receiving = None
            self.send(Message(type=MT.APP_RESP, to=m.frm, index=self.log.committed))
            return
        if self.snapshot_receiving != (meta.index, meta.term):
            self.snapshot_receiving = (meta.index, meta.term)
            self.snapshot_chunks = {}
        self.snapshot_chunks[m.snap_offset] = m.snapshot.data
        if sum(len(c) for c in self.snapshot_chunks.values()) < m.snap_size:
            return
        data = b"".join(self.snapshot_chunks[o] for o in sorted(self.snapshot_chunks))
        self.snapshot_receiving = None
        self.snapshot_chunks = {}
        if self.restore(Snapshot(meta, data)):
            self.send(Message(type=MT.APP_RESP, to=m.frm, index=self.log.last_index()))
        else:
            self.send(Message(type=MT.APP_RESP, to=m.frm, index=self.log.committed))

    def restore(self, snap: Snapshot) -> bool:
        meta = snap.meta
        if meta.index <= self.log.committed:
            return False
        cs = meta.conf_state
        if self.id not in set(cs.voters) | set(cs.learners) | set(cs.voters_outgoing):
            return False  # a snapshot of a configuration without us: ignore (we are being removed or are new)
        if self.log.match_term(meta.index, meta.term):
            self.log.commit_to(meta.index)  # we have the entries already: fast-forward the commit index
            return False
        self.log.restore(snap)
        restore_config(self.tracker, cs, self.log.last_index() + 1)
        self.tracker.progress[self.id].match = meta.index
        self.is_learner = self.id in self.tracker.config.learners
        return True

    # -- membership (thesis 4) -----------------------------------------------------------------------------------
    def apply_conf_change(self, cc: ConfChange) -> ConfState:
        changer = Changer(self.tracker, self.log.last_index())
        if cc.leave_joint():
            cfg, prs = changer.leave_joint()
        else:
            joint, auto_leave = cc.enters_joint()
            cfg, prs = changer.enter_joint(auto_leave, cc.changes) if joint else changer.simple(cc.changes)
        self.tracker.config = cfg
        self.tracker.progress = prs
        pr = prs.get(self.id)
        self.is_learner = pr is not None and pr.is_learner
        if self.role == Role.LEADER and self.cfg.step_down_on_removal and not self.tracker.is_voter(self.id):
            # A leader removed from the configuration steps down once the change is applied (thesis 4.2.2).
            self.become_follower(self.term, NONE)
        elif self.role == Role.LEADER:
            if self.lead_transferee != NONE and not self.tracker.is_voter(self.lead_transferee):
                self.lead_transferee = NONE
            if self.maybe_commit():
                self.bcast_append()
            else:
                for to in self.tracker.peers():
                    if to != self.id:
                        self.maybe_send_append(to, send_if_empty=False)
        return cfg.conf_state()

    def on_applied(self, index: int) -> None:
        """Entries up to ``index`` were applied: leave an auto-leave joint configuration once it is applied."""
        self.log.applied_to(index)
        cfg = self.tracker.config
        if self.role == Role.LEADER and cfg.auto_leave and index >= self.pending_conf_index:
            data = ConfChange().encode()
            self.append_entries([Entry(0, 0, EntryType.CONF_CHANGE, data)], count_size=False)
            self.pending_conf_index = self.log.last_index()
            self.bcast_append()

    def reduce_uncommitted_size(self, ents: list[Entry]) -> None:
        if self.uncommitted_size:
            self.uncommitted_size = max(0, self.uncommitted_size - payload_size(ents))

