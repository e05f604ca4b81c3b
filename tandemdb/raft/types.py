"""Wire and log records of the consensus layer, all msgspec structs so that they encode without copies."""

from __future__ import annotations

from enum import IntEnum

import msgspec

NONE = 0  # node id 0 means "nobody" (no leader, no vote)


class EntryType(IntEnum):
    NORMAL = 0
    CONF_CHANGE = 1  # data is an encoded ConfChange


class Role(IntEnum):
    FOLLOWER = 0
    CANDIDATE = 1
    LEADER = 2
    PRE_CANDIDATE = 3


class MessageType(IntEnum):
    # Local messages: never sent over the network.
    HUP = 0  # start an election
    BEAT = 1  # leader: send heartbeats
    CHECK_QUORUM = 2  # leader: step down unless a quorum was recently active
    UNREACHABLE = 3  # the application reports a peer unreachable
    SNAP_STATUS = 4  # the application reports a snapshot send finished or failed
    # Network messages.
    PROP = 10  # proposal (forwarded from a follower to the leader)
    APP = 11
    APP_RESP = 12
    VOTE = 13
    VOTE_RESP = 14
    PRE_VOTE = 15
    PRE_VOTE_RESP = 16
    SNAP = 17  # one chunk of a snapshot
    HEARTBEAT = 18
    HEARTBEAT_RESP = 19
    TRANSFER_LEADER = 20
    TIMEOUT_NOW = 21
    READ_INDEX = 22
    READ_INDEX_RESP = 23


LOCAL_MESSAGES = frozenset(
    {MessageType.HUP, MessageType.BEAT, MessageType.CHECK_QUORUM, MessageType.UNREACHABLE, MessageType.SNAP_STATUS}
)
RESPONSE_MESSAGES = frozenset(
    {
        MessageType.APP_RESP,
        MessageType.VOTE_RESP,
        MessageType.PRE_VOTE_RESP,
        MessageType.HEARTBEAT_RESP,
        MessageType.READ_INDEX_RESP,
        MessageType.UNREACHABLE,
        MessageType.SNAP_STATUS,
    }
)


class Entry(msgspec.Struct, array_like=True, gc=False):
    term: int
    index: int
    type: int = EntryType.NORMAL
    data: bytes = b""


class HardState(msgspec.Struct, array_like=True, gc=False):
    term: int = 0
    vote: int = NONE
    commit: int = 0


class ConfState(msgspec.Struct, array_like=True):
    """A configuration: voters (incoming), voters_outgoing (non-empty only in a joint configuration), learners."""

    voters: tuple[int, ...] = ()
    learners: tuple[int, ...] = ()
    voters_outgoing: tuple[int, ...] = ()
    learners_next: tuple[int, ...] = ()  # learners that stay voters until the joint configuration is left
    auto_leave: bool = False


class SnapshotMeta(msgspec.Struct, array_like=True):
    index: int = 0
    term: int = 0
    conf_state: ConfState = msgspec.field(default_factory=ConfState)


class Snapshot(msgspec.Struct, array_like=True):
    meta: SnapshotMeta = msgspec.field(default_factory=SnapshotMeta)
    data: bytes = b""

    def is_empty(self) -> bool:
        return self.meta.index == 0


class ConfChangeType(IntEnum):
    ADD_NODE = 0
    ADD_LEARNER = 1
    REMOVE_NODE = 2


class ConfChangeTransition(IntEnum):
    AUTO = 0  # single change: simple; several: joint, left automatically
    JOINT_IMPLICIT = 1  # joint, left automatically once committed
    JOINT_EXPLICIT = 2  # joint, left only by an explicit empty ConfChange


class ConfChangeSingle(msgspec.Struct, array_like=True):
    type: int
    node_id: int


class ConfChange(msgspec.Struct, array_like=True):
    """One or more membership changes. An empty change list means "leave the joint configuration"."""

    changes: tuple[ConfChangeSingle, ...] = ()
    transition: int = ConfChangeTransition.AUTO
    context: bytes = b""

    def leave_joint(self) -> bool:
        return not self.changes and self.transition == ConfChangeTransition.AUTO

    def enters_joint(self) -> tuple[bool, bool]:
        """(uses a joint configuration, leaves it automatically)."""
        if self.transition != ConfChangeTransition.AUTO or len(self.changes) > 1:
            return True, self.transition in (ConfChangeTransition.AUTO, ConfChangeTransition.JOINT_IMPLICIT)
        return False, False

    def encode(self) -> bytes:
        return _CC_ENCODER.encode(self)

    @staticmethod
    def decode(data: bytes) -> ConfChange:
        return _CC_DECODER.decode(data)


_CC_ENCODER = msgspec.msgpack.Encoder()
_CC_DECODER = msgspec.msgpack.Decoder(ConfChange)


class Message(msgspec.Struct, kw_only=True, gc=False):
    type: int
    to: int = NONE
    frm: int = NONE
    term: int = 0
    log_term: int = 0
    index: int = 0
    entries: list[Entry] = []
    commit: int = 0
    reject: bool = False
    reject_hint: int = 0
    context: bytes = b""
    # Snapshot transfer: ``snapshot.data`` holds the chunk that starts at ``snap_offset`` of ``snap_size`` bytes.
    snapshot: Snapshot | None = None
    snap_offset: int = 0
    snap_size: int = 0


class ReadState(msgspec.Struct, array_like=True):
    """A read may be served once the applied index reaches ``index``; ``context`` identifies the request."""

    index: int
    context: bytes


class SoftState(msgspec.Struct, array_like=True):
    leader: int = NONE
    role: int = Role.FOLLOWER
