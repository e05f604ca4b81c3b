"""A deterministic in-process cluster for testing ``tandemdb.raft``, and the runner of the data-driven
interaction scripts under ``testdata/raft/`` (in the style of etcd-io/raft's ``testdata/*.txt``).

The application loop each node runs (``Cluster.process_ready``) is the one ``RawNode`` documents:
``rd = node.ready()``; persist ``rd.snapshot`` (``apply_snapshot``), ``rd.entries`` (``append``) and
``rd.hard_state`` (``set_hard_state``) into the node's ``MemoryStorage``; queue ``rd.messages`` on the
network; apply ``rd.committed_entries`` (conf changes through ``apply_conf_change``); ``node.advance(rd)``.
Messages go through a msgpack round trip when queued, as on a real wire, so a receiver never shares an
object with its sender. Nothing happens unless a command asks for it: no clock, no threads, and every
node's random generator is seeded with its id (and its incarnation after a restart).

Script format
=============

A script is a sequence of blocks, each a command line, a line ``----``, and the command's expected output,
ended by a blank line (the output itself never contains a blank line; a command with nothing to report
prints ``ok``). Lines starting with ``#`` between blocks are comments. Run the scripts with
``pytest tests/raft``; ``pytest tests/raft --rewrite`` records the actual outputs as the expected ones
(then READ them: a rewrite records behaviour, it proves nothing).

    # a comment
    propose 1 foo
    ----
    ok

Arguments are positional (node ids, data) or ``key=value``; a list value is written ``(1,2,3)``.

Commands
--------
``add-nodes N [voters=(..)] [learners=(..)] [option=value ...]``
    Create N nodes with the next free ids. With voters/learners each starts as a node of a new cluster with
    that configuration (``MemoryStorage(conf_state=...)``); without, with an empty configuration (a node
    that will be added later). Options (Config fields): ``election`` (10), ``heartbeat`` (1), ``prevote``
    (true), ``checkquorum`` (true), ``max-size-per-msg``, ``max-inflight``, ``max-inflight-bytes``,
    ``max-uncommitted``, ``snapshot-chunk-size``, ``read-only`` (safe|lease), ``max-clock-drift``,
    ``disable-forwarding``, ``step-down-on-removal``.
``campaign ID``                       the node starts an election (a pre-election with PreVote).
``propose ID DATA``                   propose one normal entry.
``propose-conf-change ID [transition=auto|implicit|explicit] v1 l4 r2 ...``
    propose a membership change: ``vN`` adds voter N, ``lN`` adds (or demotes to) learner N, ``rN``
    removes N. No change at all is the "leave the joint configuration" change.
``process-ready ID...``               handle one Ready on each node (persist, send, apply, advance).
``deliver-msgs [drop=(..)] [type=T] [from=ID] [order=reverse] ID...``
    step every queued message addressed to each ID (optionally only those of message type T, or from one
    sender; ``order=reverse`` delivers them in reverse order); messages to the ``drop`` ids are discarded.
``stabilize [ID...]``                 process Readies and deliver messages among the nodes (all by default)
                                      until nothing is left to do.
``tick-heartbeat ID``                 tick ``heartbeat`` times.
``tick-election ID``                  let an election timeout elapse: a leader ticks ``election`` times,
                                      any other node ticks until its randomized election timeout is reached.
``tick ID [N]``                       tick N times (default 1).
``read-index ID CTX``                 request a linearizable read point with context CTX.
``transfer-leader FROM TO``           ask node FROM (the leader, or a follower that forwards it) to hand
                                      leadership to TO.
``isolate ID``                        cut ID off: queued and future messages to or from it are dropped.
``heal [ID]``                         end the isolation of ID (of every node by default).
``status ID``                         role, term, vote, commit, applied, leader, configuration; a leader
                                      also prints each peer's progress.
``log ID``                            the node's log (snapshot, entries, commit and applied indices) and its
                                      state machine's values.
``compact ID INDEX``                  the node snapshots its state machine at applied INDEX and discards its
                                      log up to INDEX.
``restart ID``                        the node crashes (anything not persisted is lost) and restarts from its
                                      storage; queued messages to it stay queued.

Output
------
``process-ready`` prints the Ready as ``> ID handling Ready`` followed by its non-empty parts (soft state,
hard state, entries, snapshot, committed entries, messages, read states); ``deliver-msgs`` prints
``> ID receiving messages`` and each message. Any change of a node's (role, term, leader) is reported as
``INFO ID is ROLE at term T, leader L``; a configuration switch as ``INFO ID switched to configuration ...``.
Messages print as ``FROM->TO TYPE Term:T Log:LOGTERM/INDEX [Rejected (Hint: I/T)] [Commit:C]
[Entries:[TERM/INDEX TYPE DATA, ...]] [Snapshot:...] [Context:"..."]`` (heartbeats print ``Tick:N``, the
leader's lease clock, instead of Log); entries as ``TERM/INDEX EntryNormal "data"`` or
``TERM/INDEX EntryConfChange v4 l5``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from tandemdb.raft.config import Config, ReadOnlyOption
from tandemdb.raft.errors import ProposalDroppedError
from tandemdb.raft.progress import ProgressState
from tandemdb.raft.rawnode import RawNode, Ready
from tandemdb.raft.storage import MemoryStorage
from tandemdb.raft.types import (
    ConfChange,
    ConfChangeSingle,
    ConfChangeTransition,
    ConfChangeType,
    ConfState,
    Entry,
    EntryType,
    HardState,
    Message,
    MessageType as MT,
    ReadState,
    Role,
    Snapshot,
)

_ENC = msgspec.msgpack.Encoder()
_MSG_DEC = msgspec.msgpack.Decoder(Message)


def wire(m: Message) -> Message:
    """A copy of ``m`` as the receiver would decode it off the network."""
    return _MSG_DEC.decode(_ENC.encode(m))


# -- formatting ---------------------------------------------------------------------------------------------------


def fmt_data(data: bytes) -> str:
    return '"' + data.decode("utf-8", "backslashreplace").replace('"', '\\"') + '"'


def fmt_conf_change(cc: ConfChange) -> str:
    if cc.leave_joint():
        return "leave-joint"
    letters = {ConfChangeType.ADD_NODE: "v", ConfChangeType.ADD_LEARNER: "l", ConfChangeType.REMOVE_NODE: "r"}
    parts = [f"{letters[ConfChangeType(c.type)]}{c.node_id}" for c in cc.changes]
    if cc.transition != ConfChangeTransition.AUTO:
        implicit = cc.transition == ConfChangeTransition.JOINT_IMPLICIT
        parts.append("transition=" + ("implicit" if implicit else "explicit"))
    return " ".join(parts)


def fmt_entry(e: Entry) -> str:
    if e.type == EntryType.CONF_CHANGE:
        return f"{e.term}/{e.index} EntryConfChange {fmt_conf_change(ConfChange.decode(e.data))}"
    return f"{e.term}/{e.index} EntryNormal {fmt_data(e.data)}"


def _ids(ids: Iterable[int]) -> str:
    return "(" + " ".join(str(i) for i in ids) + ")"


def fmt_conf_state(cs: ConfState) -> str:
    voters = _ids(cs.voters)
    if cs.voters_outgoing:
        voters += "&&" + _ids(cs.voters_outgoing)
    s = f"voters={voters}"
    if cs.learners:
        s += f" learners={_ids(cs.learners)}"
    if cs.learners_next:
        s += f" learners_next={_ids(cs.learners_next)}"
    if cs.auto_leave:
        s += " autoleave"
    return s


def fmt_snapshot_meta(snap: Snapshot) -> str:
    return f"Index:{snap.meta.index} Term:{snap.meta.term} ConfState:{fmt_conf_state(snap.meta.conf_state)}"


def fmt_message(m: Message) -> str:
    t = MT(m.type)
    s = f"{m.frm}->{m.to} {t.name} Term:{m.term}"
    if t in (MT.HEARTBEAT, MT.HEARTBEAT_RESP):
        s += f" Tick:{m.index}"
    else:
        s += f" Log:{m.log_term}/{m.index}"
    if m.reject:
        s += f" Rejected (Hint: {m.reject_hint}/{m.log_term})" if t == MT.APP_RESP else " Rejected"
    if m.commit:
        s += f" Commit:{m.commit}"
    if m.entries:
        s += " Entries:[" + ", ".join(fmt_entry(e) for e in m.entries) + "]"
    if m.snapshot is not None:
        s += f" Snapshot:[{fmt_snapshot_meta(m.snapshot)} Chunk:{m.snap_offset}+{len(m.snapshot.data)}/{m.snap_size}]"
    if m.context:
        s += f" Context:{fmt_data(m.context)}"
    return s


def fmt_hard_state(hs: HardState) -> str:
    return f"HardState Term:{hs.term} Vote:{hs.vote} Commit:{hs.commit}"


# -- the cluster --------------------------------------------------------------------------------------------------

_OPTION_FIELDS = {
    "election": ("election_tick", int),
    "heartbeat": ("heartbeat_tick", int),
    "prevote": ("pre_vote", "bool"),
    "checkquorum": ("check_quorum", "bool"),
    "max-size-per-msg": ("max_size_per_msg", int),
    "max-inflight": ("max_inflight_msgs", int),
    "max-inflight-bytes": ("max_inflight_bytes", int),
    "max-uncommitted": ("max_uncommitted_entries_size", int),
    "max-committed-per-ready": ("max_committed_size_per_ready", int),
    "snapshot-chunk-size": ("snapshot_chunk_size", int),
    "read-only": ("read_only_option", "readonly"),
    "max-clock-drift": ("max_clock_drift_ticks", int),
    "disable-forwarding": ("disable_proposal_forwarding", "bool"),
    "step-down-on-removal": ("step_down_on_removal", "bool"),
}


def config_options(raw: dict[str, str]) -> dict:
    opts = {}
    for key, value in raw.items():
        if key not in _OPTION_FIELDS:
            raise ValueError(f"unknown option {key}")
        name, kind = _OPTION_FIELDS[key]
        if kind == "bool":
            opts[name] = {"true": True, "false": False}[value]
        elif kind == "readonly":
            opts[name] = {"safe": ReadOnlyOption.SAFE, "lease": ReadOnlyOption.LEASE_BASED}[value]
        else:
            opts[name] = kind(value)
    return opts


@dataclass
class Node:
    id: int
    storage: MemoryStorage
    opts: dict
    incarnation: int = 0
    raw: RawNode = field(init=False)
    values: list[tuple[int, bytes]] = field(default_factory=list)  # the state machine: applied normal entries
    conf_history: list[tuple[int, ConfState]] = field(default_factory=list)  # (applied index, configuration)
    read_states: list[ReadState] = field(default_factory=list)
    applied: int = 0

    def start(self) -> None:
        """(Re)start from storage: the state machine is rebuilt from the snapshot, the rest is re-applied."""
        snap = self.storage.snapshot()
        self._restore_app(snap)
        seed = self.id + 7919 * self.incarnation
        self.raw = RawNode(Config(id=self.id, storage=self.storage, rng=random.Random(seed), **self.opts))
        self.incarnation += 1

    def _restore_app(self, snap: Snapshot) -> None:
        i = snap.meta.index
        self.values = [(i, v) for v in snap.data.split(b",")] if snap.data else []
        self.conf_history = [(i, snap.meta.conf_state)]
        self.applied = i
        self.read_states = []

    @property
    def raft(self):
        return self.raw.raft

    def conf_state_at(self, index: int) -> ConfState:
        cs = self.conf_history[0][1]
        for i, c in self.conf_history:
            if i <= index:
                cs = c
        return cs

    def state_data(self, index: int) -> bytes:
        return b",".join(v for i, v in self.values if i <= index)

    def state(self) -> list[bytes]:
        return [v for _, v in self.values]


class Cluster:
    """Nodes, a network queue, and the commands of the script language (also used directly by unit tests)."""

    def __init__(self, quiet: bool = False) -> None:
        self.nodes: dict[int, Node] = {}
        self.queue: list[Message] = []  # messages in flight, in send order
        self.isolated: set[int] = set()
        self.delivered: list[Message] = []  # every message stepped into a node, in order
        self.quiet = quiet
        self.out: list[str] = []
        self._seen: dict[int, tuple[int, int, int]] = {}

    # -- output ---------------------------------------------------------------------------------------------------
    def emit(self, line: str, indent: int = 0) -> None:
        if not self.quiet:
            self.out.append("  " * indent + line)

    def take_output(self) -> str:
        lines, self.out = self.out, []
        return "\n".join(line for line in lines if line.strip()) or "ok"

    def note(self, nid: int, indent: int = 0) -> None:
        """Report a change of the node's (role, term, leader)."""
        r = self.nodes[nid].raft
        now = (int(r.role), r.term, r.lead)
        if self._seen.get(nid) != now:
            self._seen[nid] = now
            self.emit(f"INFO {nid} is {Role(r.role).name} at term {r.term}, leader {r.lead}", indent)

    def note_all(self, indent: int = 0) -> None:
        for nid in sorted(self.nodes):
            self.note(nid, indent)

    # -- set-up ---------------------------------------------------------------------------------------------------
    def add_nodes(self, n: int, voters: Iterable[int] = (), learners: Iterable[int] = (), **opts) -> list[int]:
        voters, learners = tuple(sorted(voters)), tuple(sorted(learners))
        ids = []
        for _ in range(n):
            nid = max(self.nodes, default=0) + 1
            cs = ConfState(voters=voters, learners=learners) if voters or learners else None
            node = Node(nid, MemoryStorage(conf_state=cs), dict(opts))
            node.start()
            self.nodes[nid] = node
            self._seen[nid] = (int(node.raft.role), node.raft.term, node.raft.lead)
            ids.append(nid)
        return ids

    def add_node(self, storage: MemoryStorage, **opts) -> int:
        """Add a node that starts from ``storage`` (for instance with a log built by the test)."""
        nid = max(self.nodes, default=0) + 1
        node = Node(nid, storage, dict(opts))
        node.start()
        self.nodes[nid] = node
        self._seen[nid] = (int(node.raft.role), node.raft.term, node.raft.lead)
        return nid

    def raw(self, nid: int) -> RawNode:
        return self.nodes[nid].raw

    def raft(self, nid: int):
        return self.nodes[nid].raft

    # -- the application loop --------------------------------------------------------------------------------------
    def process_ready(self, nid: int, indent: int = 0) -> Ready | None:
        node = self.nodes[nid]
        rn = node.raw
        self.emit(f"> {nid} handling Ready", indent)
        if not rn.has_ready():
            self.emit("<empty Ready>", indent + 1)
            return None
        rd = rn.ready()
        self._print_ready(rd, indent + 1)
        st = node.storage
        if rd.snapshot is not None:
            st.apply_snapshot(rd.snapshot)
            node._restore_app(rd.snapshot)
        if rd.entries:
            st.append(rd.entries)
        if rd.hard_state is not None:
            st.set_hard_state(rd.hard_state)
        self.send(rd.messages)
        for e in rd.committed_entries:
            if e.type == EntryType.CONF_CHANGE:
                cs = rn.apply_conf_change(ConfChange.decode(e.data))
                node.conf_history.append((e.index, cs))
                self.emit(f"INFO {nid} switched to configuration {fmt_conf_state(cs)}", indent + 1)
            elif e.data:
                node.values.append((e.index, e.data))
            node.applied = e.index
        node.read_states.extend(rd.read_states)
        rn.advance(rd)
        self.note(nid, indent + 1)
        return rd

    def _print_ready(self, rd: Ready, indent: int) -> None:
        e = self.emit
        e(f"Ready MustSync={str(rd.must_sync).lower()}:", indent)
        if rd.soft_state is not None:
            e(f"Lead:{rd.soft_state.leader} State:{Role(rd.soft_state.role).name}", indent)
        if rd.hard_state is not None:
            e(fmt_hard_state(rd.hard_state), indent)
        if rd.entries:
            e("Entries:", indent)
            for ent in rd.entries:
                e(fmt_entry(ent), indent)
        if rd.snapshot is not None:
            e(f"Snapshot {fmt_snapshot_meta(rd.snapshot)} Data:{fmt_data(rd.snapshot.data)}", indent)
        if rd.committed_entries:
            e("CommittedEntries:", indent)
            for ent in rd.committed_entries:
                e(fmt_entry(ent), indent)
        if rd.messages:
            sent = [m for m in rd.messages if m.to not in self.isolated and m.frm not in self.isolated]
            lost = [m for m in rd.messages if m.to in self.isolated or m.frm in self.isolated]
            if sent:
                e("Messages:", indent)
                for m in sent:
                    e(fmt_message(m), indent)
            if lost:
                e("Dropped (isolated):", indent)
                for m in lost:
                    e(fmt_message(m), indent)
        if rd.read_states:
            e("ReadStates:", indent)
            for rs in rd.read_states:
                e(f"Index:{rs.index} Context:{fmt_data(rs.context)}", indent)

    def send(self, msgs: Iterable[Message]) -> None:
        """Put messages on the network (those crossing an isolation are lost)."""
        for m in msgs:
            if m.to in self.isolated or m.frm in self.isolated:
                continue
            self.queue.append(wire(m))

    def pending(self, to: int) -> list[Message]:
        return [m for m in self.queue if m.to == to]

    def deliver(
        self,
        ids: Iterable[int],
        drop: Iterable[int] = (),
        msg_type: MT | None = None,
        frm: int | None = None,
        reverse: bool = False,
        indent: int = 0,
    ) -> int:
        """Step the queued messages addressed to ``ids`` into their nodes; discard those to ``drop``."""

        def match(m: Message, to: int) -> bool:
            return m.to == to and (msg_type is None or m.type == msg_type) and (frm is None or m.frm == frm)

        n = 0
        for to in ids:
            msgs = [m for m in self.queue if match(m, to)]
            if not msgs:
                continue
            self.queue = [m for m in self.queue if not match(m, to)]
            if reverse:
                msgs.reverse()
            self.emit(f"> {to} receiving messages", indent)
            for m in msgs:
                self.emit(fmt_message(m), indent + 1)
                self.delivered.append(m)
                try:
                    self.nodes[to].raw.step(m)
                except ProposalDroppedError as err:
                    self.emit(f"error: {type(err).__name__}: {err}", indent + 1)
                self.note(to, indent + 1)
                n += 1
        for to in drop:
            msgs = [m for m in self.queue if match(m, to)]
            self.queue = [m for m in self.queue if not match(m, to)]
            for m in msgs:
                self.emit(f"dropped: {fmt_message(m)}", indent)
        return n

    def stabilize(self, ids: Iterable[int] | None = None, indent: int = 0, max_rounds: int = 1000) -> None:
        ids = sorted(self.nodes) if ids is None else list(ids)
        for _ in range(max_rounds):
            done = True
            for nid in ids:
                if self.nodes[nid].raw.has_ready():
                    done = False
                    self.process_ready(nid, indent)
            for nid in ids:
                if self.pending(nid):
                    done = False
                    self.deliver([nid], indent=indent)
            if done:
                return
        raise AssertionError("the cluster did not stabilize")

    # -- inputs ---------------------------------------------------------------------------------------------------
    def tick(self, nid: int, n: int = 1) -> None:
        for _ in range(n):
            self.nodes[nid].raw.tick()
            self.note(nid)

    def tick_election(self, nid: int) -> None:
        r = self.raft(nid)
        if r.role == Role.LEADER:
            self.tick(nid, r.cfg.election_tick)
        else:
            self.tick(nid, max(1, r.randomized_election_timeout - r.election_elapsed))

    def tick_heartbeat(self, nid: int) -> None:
        self.tick(nid, self.raft(nid).cfg.heartbeat_tick)

    def campaign(self, nid: int) -> None:
        self.raw(nid).campaign()
        self.note(nid)

    def propose(self, nid: int, data: bytes) -> None:
        self.raw(nid).propose(data)

    def propose_conf_change(self, nid: int, cc: ConfChange) -> None:
        self.raw(nid).propose_conf_change(cc)

    def isolate(self, nid: int) -> None:
        self.isolated.add(nid)
        lost = [m for m in self.queue if m.to == nid or m.frm == nid]
        self.queue = [m for m in self.queue if not (m.to == nid or m.frm == nid)]
        for m in lost:
            self.emit(f"dropped: {fmt_message(m)}")

    def heal(self, nid: int | None = None) -> None:
        if nid is None:
            self.isolated.clear()
        else:
            self.isolated.discard(nid)

    def compact(self, nid: int, index: int) -> Snapshot:
        node = self.nodes[nid]
        if index > node.applied:
            raise ValueError(f"index {index} is not applied (applied {node.applied})")
        snap = node.storage.create_snapshot(index, node.conf_state_at(index), node.state_data(index))
        node.storage.compact(index)
        return snap

    def restart(self, nid: int) -> None:
        node = self.nodes[nid]
        node.start()
        self._seen.pop(nid, None)
        self.note(nid)

    # -- conveniences for unit tests ----------------------------------------------------------------------------------
    def elect(self, nid: int) -> None:
        """``nid`` campaigns and the whole cluster settles; it must win."""
        self.campaign(nid)
        self.stabilize()
        assert self.raft(nid).role == Role.LEADER, f"{nid} did not win: {Role(self.raft(nid).role).name}"

    def leader(self) -> int | None:
        leads = [n for n in sorted(self.nodes) if self.raft(n).role == Role.LEADER]
        return leads[-1] if leads else None

    # -- views ----------------------------------------------------------------------------------------------------
    def status_lines(self, nid: int) -> list[str]:
        node = self.nodes[nid]
        st = node.raw.status()
        lines = [
            f"{nid}: {Role(st.role).name} term:{st.term} vote:{st.vote} commit:{st.commit} applied:{st.applied}"
            f" lead:{st.lead} last:{st.last_index}",
            f"config: {fmt_conf_state(st.config)}",
        ]
        if st.role == Role.LEADER:
            for peer, pr in sorted(node.raft.tracker.progress.items()):
                learner = " learner" if pr.is_learner else ""
                snap = f" pending-snap={pr.pending_snapshot}" if pr.state == ProgressState.SNAPSHOT else ""
                lines.append(
                    f"{peer}: {pr.state.name} match={pr.match} next={pr.next}{learner}{snap}"
                    f" inflight={pr.inflights.count()}{' active' if pr.recent_active else ''}"
                )
        return lines

    def log_lines(self, nid: int) -> list[str]:
        node = self.nodes[nid]
        log = node.raft.log
        lines = []
        first = log.first_index()
        if first > 1:
            snap = log.snapshot()
            lines.append(f"snapshot {snap.meta.term}/{snap.meta.index} {fmt_conf_state(snap.meta.conf_state)}")
        ents = log.slice(first, log.last_index() + 1) or []
        lines.extend(fmt_entry(e) for e in ents)
        if not ents:
            lines.append("(no entries)")
        lines.append(f"committed={log.committed} applied={log.applied}")
        lines.append("values: " + (",".join(v.decode() for v in node.state()) or "(none)"))
        return lines


def new_cluster(n: int, learners: Iterable[int] = (), quiet: bool = True, **opts) -> Cluster:
    """A cluster of ``n`` voters (ids 1..n) and the given learners (ids after them), all bootstrapped together."""
    c = Cluster(quiet=quiet)
    learners = tuple(learners)
    c.add_nodes(n + len(learners), voters=range(1, n + 1), learners=learners, **opts)
    return c


# -- the script runner ----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r'([A-Za-z][\w-]*)=(\([^)]*\)|"[^"]*"|\S+)|"([^"]*)"|(\S+)')


def parse_args(line: str) -> tuple[str, list[str], dict[str, str]]:
    tokens = _TOKEN.findall(line)
    pos: list[str] = []
    kw: dict[str, str] = {}
    for key, val, quoted, word in tokens:
        if key:
            kw[key] = val
        else:
            pos.append(quoted if quoted or not word else word)
    return pos[0], pos[1:], kw


def id_list(value: str) -> list[int]:
    value = value.strip("()")
    return [int(x) for x in re.split(r"[,\s]+", value) if x]


def parse_conf_change(args: list[str], kw: dict[str, str]) -> ConfChange:
    kinds = {"v": ConfChangeType.ADD_NODE, "l": ConfChangeType.ADD_LEARNER, "r": ConfChangeType.REMOVE_NODE}
    changes = tuple(ConfChangeSingle(kinds[a[0]], int(a[1:])) for a in args)
    transition = {
        "auto": ConfChangeTransition.AUTO,
        "implicit": ConfChangeTransition.JOINT_IMPLICIT,
        "explicit": ConfChangeTransition.JOINT_EXPLICIT,
    }[kw.get("transition", "auto")]
    return ConfChange(changes=changes, transition=transition)


# Commands whose refusal (a ProposalDroppedError or a ValueError such as ConfChangeError) is an expected output.
_INPUTS = {"campaign", "propose", "propose-conf-change", "read-index", "transfer-leader", "compact"}


class Interpreter:
    def __init__(self) -> None:
        self.c = Cluster()

    def run(self, line: str) -> str:
        cmd, args, kw = parse_args(line)
        c = self.c
        ids = [int(a) for a in args] if cmd in ("process-ready", "deliver-msgs", "stabilize") else []
        try:
            if cmd == "add-nodes":
                voters = id_list(kw.pop("voters", "()"))
                learners = id_list(kw.pop("learners", "()"))
                c.add_nodes(int(args[0]), voters, learners, **config_options(kw))
            elif cmd == "campaign":
                c.campaign(int(args[0]))
            elif cmd == "propose":
                c.propose(int(args[0]), args[1].encode())
            elif cmd == "propose-conf-change":
                c.propose_conf_change(int(args[0]), parse_conf_change(args[1:], kw))
            elif cmd == "process-ready":
                for nid in ids:
                    c.process_ready(nid)
            elif cmd == "deliver-msgs":
                typ = MT[kw["type"]] if "type" in kw else None
                frm = int(kw["from"]) if "from" in kw else None
                drop = id_list(kw.get("drop", "()"))
                if set(drop) & set(ids):
                    raise ValueError("cannot both deliver and drop messages to the same node")
                c.deliver(ids, drop=drop, msg_type=typ, frm=frm, reverse=kw.get("order") == "reverse")
            elif cmd == "stabilize":
                c.stabilize(ids or None)
            elif cmd == "tick-heartbeat":
                c.tick_heartbeat(int(args[0]))
            elif cmd == "tick-election":
                c.tick_election(int(args[0]))
            elif cmd == "tick":
                c.tick(int(args[0]), int(args[1]) if len(args) > 1 else 1)
            elif cmd == "read-index":
                c.raw(int(args[0])).read_index(args[1].encode())
            elif cmd == "transfer-leader":
                c.raw(int(args[0])).transfer_leader(int(args[1]))
                c.note_all()
            elif cmd == "isolate":
                c.isolate(int(args[0]))
            elif cmd == "heal":
                c.heal(int(args[0]) if args else None)
            elif cmd == "status":
                for line_ in c.status_lines(int(args[0])):
                    c.emit(line_)
            elif cmd == "log":
                for line_ in c.log_lines(int(args[0])):
                    c.emit(line_)
            elif cmd == "compact":
                c.compact(int(args[0]), int(args[1]))
                c.emit(f"compacted {args[0]} to {args[1]}")
            elif cmd == "restart":
                c.restart(int(args[0]))
            else:
                raise ValueError(f"unknown command {cmd!r}")
        except (ProposalDroppedError, ValueError) as err:
            if cmd not in _INPUTS:
                raise  # the application loop itself failed: that is a test failure, not an output
            c.emit(f"error: {type(err).__name__}: {err}")
        return c.take_output()


@dataclass
class Block:
    comments: list[str]
    command: str
    expected: str


def parse_script(text: str) -> tuple[list[Block], list[str]]:
    """The blocks of a script, and the comment lines after the last one."""
    lines = text.split("\n")
    blocks: list[Block] = []
    comments: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.startswith("#"):
            comments.append(line)
            i += 1
            continue
        command = line
        i += 1
        if i >= len(lines) or lines[i] != "----":
            raise ValueError(f"line {i + 1}: expected '----' after command {command!r}")
        i += 1
        out = []
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        blocks.append(Block(comments, command, "\n".join(out)))
        comments = []
    return blocks, comments


def format_script(blocks: list[Block], trailing: list[str]) -> str:
    parts = []
    for b in blocks:
        text = "\n".join(b.comments + [b.command, "----", b.expected])
        parts.append(text)
    if trailing:
        parts.append("\n".join(trailing))
    return "\n\n".join(parts) + "\n"


def run_script(path: Path, rewrite: bool = False) -> list[tuple[str, str, str]]:
    """Run a script; return its mismatches as (command, expected, actual). With ``rewrite``, record the
    actual outputs in the file instead."""
    blocks, trailing = parse_script(path.read_text())
    interp = Interpreter()
    mismatches = []
    for b in blocks:
        actual = interp.run(b.command)
        if actual != b.expected:
            mismatches.append((b.command, b.expected, actual))
            b.expected = actual
    if rewrite:
        path.write_text(format_script(blocks, trailing))
        return []
    return mismatches
