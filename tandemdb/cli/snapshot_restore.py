"""``tandem snapshot restore``: make one member's data directory of a new cluster from a backup (etcdutl-style).

Run it once per member of the new cluster, each with its own data directory and the same ``--initial-cluster``;
then ``tandem start`` each member on its directory. Every member starts from the same snapshot at the
backup's index, whose configuration is the new member list, so the new cluster needs no bootstrap.
"""

from __future__ import annotations

import os
import shutil

import click

from ..node.backup import BackupError, decode_backup, install_backup
from ..node.config import DATA_GROUP
from ..storage import NodeStorage, RealDisk, StorageError
from ..wire.client_api import Member
from .start import parse_cluster


def restore_data_dir(data: bytes, data_dir: str, node_id: int, cluster: dict[int, str], cluster_id: int = 1) -> int:
    """Write ``data_dir`` for member ``node_id`` of the new cluster ``cluster`` (id -> peer address) from the
    backup ``data``; returns the snapshot index. Raises ``BackupError``, ``FileExistsError``, ``StorageError``."""
    backup = decode_backup(data)
    if backup.group != DATA_GROUP:
        raise BackupError(f"the backup is of group {backup.group}, not of the data group {DATA_GROUP}")
    if node_id not in cluster:
        raise ValueError(f"node {node_id} is not in the new cluster ({', '.join(map(str, sorted(cluster)))})")
    if os.path.exists(data_dir) and (not os.path.isdir(data_dir) or os.listdir(data_dir)):
        raise FileExistsError(f"{data_dir} is not an empty directory; restore needs a new one")
    created = not os.path.exists(data_dir)
    try:
        storage = NodeStorage.open(RealDisk(), data_dir, cluster_id=cluster_id, node_id=node_id)
        try:
            snap = install_backup(storage, backup, [Member(i, peer) for i, peer in cluster.items()])
        finally:
            storage.close()
    except BaseException:
        if created:
            shutil.rmtree(data_dir, ignore_errors=True)  # leave no half-written data dir to start from
        raise
    return snap.meta.index


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--data-dir", required=True, type=click.Path(file_okay=False),
              help="The new member's data directory (must not exist or be empty).")
@click.option("--id", "node_id", type=click.IntRange(min=1), required=True, help="The new member's id.")
@click.option("--initial-cluster", required=True,
              help="ID=HOST:PORT,... peer addresses of every member of the new cluster.")
@click.option("--cluster-id", type=click.IntRange(min=1), default=1, show_default=True,
              help="The new cluster's id; give `tandem start` the same.")
def restore(file: str, data_dir: str, node_id: int, initial_cluster: str, cluster_id: int) -> None:
    """Make the data directory of one member of a new cluster from the backup FILE (`tandem snapshot save`).

    Run once per member, then `tandem start --id ID --data-dir DIR --initial-cluster ...` on each.
    """
    cluster = parse_cluster(initial_cluster)
    with open(file, "rb") as f:
        data = f.read()
    try:
        index = restore_data_dir(data, data_dir, node_id, cluster, cluster_id)
    except BackupError as e:
        raise click.ClickException(f"{file}: {e}") from None
    except (ValueError, FileExistsError, StorageError, OSError) as e:
        raise click.ClickException(str(e)) from None
    backup = decode_backup(data)
    click.echo(f"restored {file} (index {backup.index}, revision {backup.revision}) into {data_dir} "
               f"as member {node_id} of {len(cluster)}; the new cluster starts at index {index}")
    click.echo(f"start it with: tandem start --id {node_id} --data-dir {data_dir} --listen-peer {cluster[node_id]} "
               f"--initial-cluster {initial_cluster} --cluster-id {cluster_id} ...")
