"""A consistent backup of one group (``tandem snapshot save``) and the raft snapshot a restore starts from.

A backup is the group's state as of a linearizable read point. Restoring makes a *new* cluster: its members
start from a snapshot at the backup's index, with the new member list as their configuration.
"""

from __future__ import annotations

import msgspec

from ..raft.types import ConfState, HardState, Snapshot, SnapshotMeta
from ..storage.node_storage import NodeStorage
from ..wire.client_api import Member
from . import commands as gc

BACKUP_MAGIC = b"TNDMBKUP"
BACKUP_FORMAT = 2  # 1 held the KV store's own client sessions; the group keeps them now


class Backup(msgspec.Struct, array_like=True, kw_only=True):
    magic: bytes = BACKUP_MAGIC
    format: int = BACKUP_FORMAT
    cluster_id: int
    group: int
    index: int
    revision: int
    conf_state: ConfState
    state: bytes  # a GroupState


encode_backup = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Backup).decode


class BackupError(ValueError):
    pass


def decode_backup(data: bytes) -> Backup:
    """Parse and check a backup file's bytes; raises ``BackupError`` with the reason."""
    try:
        backup = _decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BackupError(f"not a Tandem backup: {e}") from None
    if backup.magic != BACKUP_MAGIC:
        raise BackupError("not a Tandem backup (bad magic)")
    if backup.format != BACKUP_FORMAT:
        raise BackupError(f"backup format {backup.format} is not supported (this version reads {BACKUP_FORMAT})")
    try:
        gc.decode_state(backup.state)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BackupError(f"the backup's state is damaged: {e}") from None
    return backup


def restored_snapshot(backup: Backup, members: list[Member]) -> Snapshot:
    """The snapshot every member of the restored cluster starts from: the backup's data, the new members."""
    state = gc.decode_state(backup.state)
    data = gc.encode(gc.GroupState(state.machine, sorted(members, key=lambda m: m.id), state.sessions))
    conf = ConfState(voters=tuple(sorted(m.id for m in members)))
    return Snapshot(SnapshotMeta(index=max(backup.index, 1), term=1, conf_state=conf), data)


def install_backup(storage: NodeStorage, backup: Backup, members: list[Member]) -> Snapshot:
    """Make an empty node storage start from ``backup`` as a member of a new cluster of ``members``."""
    group = storage.group(backup.group)
    if group.last_index() != 0 or not group.snapshot().is_empty():
        raise BackupError("the data directory already holds a node's state; restore into an empty one")
    snap = restored_snapshot(backup, members)
    group.apply_snapshot(snap)
    group.set_hard_state(HardState(term=snap.meta.term, commit=snap.meta.index))
    storage.sync()
    return snap
