"""RawNode: the application's handle on one Raft peer, with etcd-io/raft's Ready/Advance protocol.

The application loop:
1. feed inputs: ``tick()``, ``step(message)``, ``propose(...)``, ``read_index(ctx)``, ...;
2. ``rd = node.ready()`` when ``has_ready()``;
3. persist ``rd.hard_state``, ``rd.entries`` and ``rd.snapshot`` durably, in that order of importance: all of
   them before any of ``rd.messages`` leaves the node (votes and acknowledgements must be durable first);
4. send ``rd.messages``; apply ``rd.committed_entries`` (calling ``apply_conf_change`` for conf changes);
   serve reads whose ``rd.read_states`` index is applied;
5. ``node.advance(rd)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .confchange import ConfChangeError
from .config import Config
from .errors import ProposalDroppedError
from .raft import Raft
from .types import (
    LOCAL_MESSAGES,
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


@dataclass
class Ready:
    soft_state: SoftState | None = None  # None when unchanged since the last Ready
    hard_state: HardState | None = None  # None when unchanged: nothing to persist
    entries: list[Entry] = field(default_factory=list)  # to append to stable storage
    snapshot: Snapshot | None = None  # to install (a follower received it from the leader)
    committed_entries: list[Entry] = field(default_factory=list)  # to apply, in order
    messages: list[Message] = field(default_factory=list)  # to send once the above is durable
    read_states: list[ReadState] = field(default_factory=list)
    # Whether the write must be synced before ``messages`` go out: it changes the term, the vote or the log.
    # A hard state that only moves the commit index is written but need not be synced: the commit index is
    # volatile in Raft, and a node that restarts with an older one learns the newer one from the leader.
    must_sync: bool = False


@dataclass
class Status:
    id: int
    term: int
    vote: int
    commit: int
    applied: int
    lead: int
    role: int
    last_index: int
    config: ConfState
    progress: dict[int, tuple[int, int, str]]  # leader only: node -> (match, next, state)


class RawNode:
    def __init__(self, cfg: Config) -> None:
        self.raft = Raft(cfg)
        self._prev_soft = self.raft.soft_state()
        self._prev_hard = self.raft.hard_state()
        self._applying = self.raft.log.applied  # the last index handed out in a Ready
        self._pending: Ready | None = None

    # -- inputs -------------------------------------------------------------------------------------------------
    def tick(self) -> None:
        self.raft.tick()

    def campaign(self) -> None:
        self.raft.step(Message(type=MT.HUP, frm=self.raft.id))

    def propose(self, data: bytes) -> None:
        """Propose one entry. Raises a ``ProposalDroppedError`` subclass if it cannot be appended."""
        self.propose_batch([data])

    def propose_batch(self, datas: list[bytes]) -> None:
        """Propose several entries in one message: the cheap way to replicate many small commands."""
        ents = [Entry(0, 0, EntryType.NORMAL, d) for d in datas]
        self.raft.step(Message(type=MT.PROP, frm=self.raft.id, entries=ents))

    def propose_conf_change(self, cc: ConfChange) -> None:
        self.raft.step(
            Message(type=MT.PROP, frm=self.raft.id, entries=[Entry(0, 0, EntryType.CONF_CHANGE, cc.encode())])
        )

    def read_index(self, context: bytes) -> None:
        """Ask for a linearizable read point; a ``ReadState`` with this ``context`` appears in a later Ready."""
        if not context:
            raise ValueError("a read needs a non-empty context to identify it")
        self.raft.step(Message(type=MT.READ_INDEX, frm=self.raft.id, context=context))

    def transfer_leader(self, target: int) -> None:
        self.raft.step(Message(type=MT.TRANSFER_LEADER, frm=target))

    def report_unreachable(self, node: int) -> None:
        self.raft.step(Message(type=MT.UNREACHABLE, frm=node))

    def step(self, m: Message) -> None:
        """Feed a message received from a peer. Local message types are refused; a forwarded proposal that
        cannot be appended is dropped (its sender times out and retries)."""
        if m.type in LOCAL_MESSAGES:
            raise ValueError(f"{MT(m.type).name} is a local message and cannot arrive from the network")
        if m.frm not in self.raft.tracker.progress and m.type in (MT.APP_RESP, MT.HEARTBEAT_RESP):
            return  # a response from a node no longer in the configuration
        try:
            self.raft.step(m)
        except (ProposalDroppedError, ConfChangeError, ValueError):
            if m.type not in (MT.PROP, MT.READ_INDEX):
                raise

    def apply_conf_change(self, cc: ConfChange) -> ConfState:
        return self.raft.apply_conf_change(cc)

    # -- output -------------------------------------------------------------------------------------------------
    def has_ready(self) -> bool:
        r = self.raft
        log = r.log
        return bool(
            r.msgs
            or r.read_states
            or log.unstable.entries
            or log.unstable.snapshot is not None
            or log.has_next_committed(self._applying)
            or r.soft_state() != self._prev_soft
            or r.hard_state() != self._prev_hard
        )

    def ready(self) -> Ready:
        if self._pending is not None:
            raise RuntimeError("advance() the previous Ready before asking for the next one")
        r = self.raft
        log = r.log
        rd = Ready(
            entries=list(log.unstable.entries),
            snapshot=log.unstable.snapshot,
            messages=r.msgs,
            read_states=r.read_states,
        )
        r.msgs = []
        r.read_states = []
        if rd.snapshot is not None:
            self._applying = rd.snapshot.meta.index
        if log.has_next_committed(self._applying):
            rd.committed_entries = log.next_committed(self._applying, r.cfg.max_committed_size_per_ready)
            if rd.committed_entries:
                self._applying = rd.committed_entries[-1].index
        soft = r.soft_state()
        if soft != self._prev_soft:
            rd.soft_state = self._prev_soft = soft
        hard = r.hard_state()
        prev = self._prev_hard
        if hard != prev:
            rd.hard_state = self._prev_hard = hard
        rd.must_sync = bool(rd.entries) or rd.snapshot is not None or hard.term != prev.term or hard.vote != prev.vote
        self._pending = rd
        return rd

    def advance(self, rd: Ready) -> None:
        """The application persisted, sent and applied ``rd``."""
        if rd is not self._pending:
            raise RuntimeError("advance() must be given the Ready returned by the last ready()")
        self._pending = None
        r = self.raft
        if rd.snapshot is not None:
            r.log.unstable.stable_snap_to(rd.snapshot.meta.index)
            r.log.applied = max(r.log.applied, rd.snapshot.meta.index)
        if rd.entries:
            last = rd.entries[-1]
            r.log.unstable.stable_to(last.index, last.term)
            r.on_persisted(r.log.stable_last_index())
        if rd.committed_entries:
            if r.role == Role.LEADER:
                r.reduce_uncommitted_size(rd.committed_entries)
            r.on_applied(rd.committed_entries[-1].index)

    def status(self) -> Status:
        r = self.raft
        progress = {}
        if r.role == Role.LEADER:
            progress = {n: (p.match, p.next, p.state.name) for n, p in sorted(r.tracker.progress.items())}
        return Status(
            id=r.id,
            term=r.term,
            vote=r.vote,
            commit=r.log.committed,
            applied=r.log.applied,
            lead=r.lead,
            role=r.role,
            last_index=r.log.last_index(),
            config=r.tracker.config.conf_state(),
            progress=progress,
        )
