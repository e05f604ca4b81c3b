"""``tandem snapshot save FILE`` and ``tandem snapshot status FILE`` (``restore`` lives in snapshot_restore.py)."""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import click

from ..kv import KVStore
from ..node.backup import BackupError, decode_backup
from ..node.commands import decode_state
from .common import Table, emit, human_bytes, make_client, reports_errors


@click.group()
def snapshot() -> None:
    """Backups: a consistent copy of the cluster's data as of a linearizable read point."""


@snapshot.command()
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.pass_context
@reports_errors
def save(ctx: click.Context, path: Path) -> None:
    """Save a backup to FILE (written to a temporary file, synced, then renamed into place)."""
    result = make_client(ctx).snapshot_save()
    try:
        write_atomically(path, result.data)
    except OSError as e:
        raise click.ClickException(f"cannot write {path}: {e.strerror or e}") from None
    info = {"path": str(path), "index": result.index, "revision": result.revision, "size": len(result.data)}
    emit(ctx, info, lambda: click.echo(f"Snapshot saved at {path} (index {result.index}, revision {result.revision})"))


@snapshot.command()
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def status(ctx: click.Context, path: Path) -> None:
    """Describe the backup in FILE: hash, revision, keys, size, raft index, members."""
    data = path.read_bytes()
    try:
        backup = decode_backup(data)
    except BackupError as e:
        raise click.ClickException(f"{path}: {e}") from None
    state = decode_state(backup.state)
    kv = KVStore()
    kv.restore(state.machine)
    info = {"hash": f"{zlib.crc32(data):08x}", "revision": backup.revision, "keys": kv.stats().keys,
            "size": len(data), "index": backup.index, "group": backup.group, "cluster_id": backup.cluster_id,
            "members": [m.id for m in state.members]}
    row = [info["hash"], info["revision"], info["keys"], human_bytes(len(data)), info["index"],
           ",".join(str(m.id) for m in state.members)]
    emit(ctx, info, lambda: click.echo(", ".join(map(str, row))),
         lambda: Table(["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE", "INDEX", "MEMBERS"], [row]))


def write_atomically(path: Path, data: bytes) -> None:
    """Never leave a partial FILE: a crash leaves either the old file or the whole new one."""
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


from .snapshot_restore import restore  # noqa: E402 - a subcommand of the group above, in a module of its own

snapshot.add_command(restore)
