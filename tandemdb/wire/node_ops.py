"""The node's own operations: those that the node serves itself rather than a state machine (watches,
membership, status, leadership, backups, groups). The state machines' operations are their own commands
(``tandemdb.kv.commands``, ``tandemdb.counter``); ``tandemdb.wire.ops`` registers them all.
"""

from __future__ import annotations

import msgspec


class WatchCreate(msgspec.Struct, tag="watch", array_like=True, omit_defaults=True):
    """Stream the changes to a key range from ``start_revision`` (0: from the next change)."""

    key: bytes
    range_end: bytes = b""
    start_revision: int = 0
    prev_kv: bool = False


class WatchCancel(msgspec.Struct, tag="watch_cancel", array_like=True):
    watch_id: int  # the id of the WatchCreate request


class Member(msgspec.Struct, array_like=True, omit_defaults=True):
    """A node as the cluster knows it. ``peer``/``client`` are host:port, ``http`` a URL."""

    id: int
    peer: str
    client: str = ""
    http: str = ""
    region: str = ""
    zone: str = ""


class MemberList(msgspec.Struct, tag="member_list", array_like=True):
    pass


class MemberAdd(msgspec.Struct, tag="member_add", array_like=True):
    """Add ``member`` (id 0: the next free id) as a learner, or as a voter if ``learner`` is false."""

    member: Member
    learner: bool = True


class MemberRemove(msgspec.Struct, tag="member_remove", array_like=True):
    id: int


class MemberPromote(msgspec.Struct, tag="member_promote", array_like=True):
    """Make a learner a voter; refused until it has caught up with the leader's log."""

    id: int


class Status(msgspec.Struct, tag="status", array_like=True):
    pass


class MoveLeader(msgspec.Struct, tag="move_leader", array_like=True):
    target: int


class GroupRemove(msgspec.Struct, tag="group_remove", array_like=True):
    """Stop hosting Raft group ``group`` on the node this is sent to, and delete its data there. Only once the
    group no longer counts this node (after a member remove), or the group is retired everywhere: a replica
    removed while still a member is a lost copy. Low-level, like ``GroupCreate``."""

    group: int


class GroupCreate(msgspec.Struct, tag="group_create", array_like=True):
    """Host a new Raft group on the node this is sent to (send it to every one of ``members``, with the same
    members everywhere: each founding replica writes the same first log). A node not among ``members`` hosts
    an empty replica that a member change adds later. Low-level: the placement driver will make groups."""

    group: int
    members: list[int]


class SnapshotSave(msgspec.Struct, tag="snapshot_save", array_like=True):
    """A consistent copy of the group's state as of a linearizable read point."""
