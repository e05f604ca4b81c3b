"""``tandem snapshot save`` from a running cluster, ``tandem snapshot restore`` into a new one: same data."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from integration_harness import start_cluster
from tandemdb.cli.main import cli
from tandemdb.client import Client, Compare, Put
from tandemdb.kv import KVStore
from tandemdb.node import commands as gc
from tandemdb.node.backup import Backup, decode_backup, encode_backup
from tandemdb.node.config import DATA_GROUP
from tandemdb.raft.types import ConfState
from tandemdb.wire.client_api import Member


def _fill(client: Client) -> None:
    for i in range(50):
        client.put(f"data/{i:03d}", f"v{i}")
    for i in range(0, 50, 5):
        client.put(f"data/{i:03d}", f"v{i}-again")  # versions and mod revisions that differ from creation
    client.delete("data/", "data/010")  # data/000 .. data/009
    client.txn([Compare(b"data/020", "version", "==", 2)], [Put(b"txn/ok", b"yes")], [])
    client.put(b"bin/\xff\x00", b"\x00\x01\xfe")


def _everything(client: Client):
    return client.get("", prefix=True)


def _restore(backup_file, cluster, node_id: int) -> None:
    args = ["snapshot", "restore", str(backup_file), "--data-dir", str(cluster.data_dir(node_id)),
            "--id", str(node_id), "--initial-cluster", cluster.initial_cluster()]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


def test_backup_restores_into_a_new_cluster_with_equal_data(make_cluster, tmp_path):
    source = make_cluster("source")
    backup_file = tmp_path / "backup.snap"
    with Client(source.endpoints()) as client:
        _fill(client)
        save = subprocess.run(
            [sys.executable, "-m", "tandemdb.cli.main", "--endpoints", ",".join(source.endpoints()),
             "snapshot", "save", str(backup_file)],
            check=False, capture_output=True, text=True, timeout=60,
        )
        assert save.returncode == 0, save.stderr
        before = _everything(client)
    backup = decode_backup(backup_file.read_bytes())
    assert backup.revision == before.revision

    target = make_cluster("target", start=False)
    for node_id in target.nodes:
        _restore(backup_file, target, node_id)
    start_cluster(target)
    with Client(target.endpoints()) as client:
        after = _everything(client)
        assert after.kvs == before.kvs
        assert after.revision == before.revision
        assert client.put("new", "1").revision == before.revision + 1  # the restored cluster serves writes
        members = client.member_list().members
    assert sorted(m.member.id for m in members) == [1, 2, 3]
    assert not any(m.learner for m in members)
    assert {m.member.peer for m in members} == {s.peer for s in target.nodes.values()}


def test_restore_refuses_a_bad_file_and_a_used_data_dir(tmp_path):
    bad = tmp_path / "bad.snap"
    bad.write_bytes(b"not a backup")
    result = CliRunner().invoke(cli, ["snapshot", "restore", str(bad), "--data-dir", str(tmp_path / "d1"),
                                      "--id", "1", "--initial-cluster", "1=127.0.0.1:1"])
    assert result.exit_code == 1
    assert "not a Tandem backup" in result.output
    assert not (tmp_path / "d1").exists()

    good = tmp_path / "good.snap"
    good.write_bytes(_empty_backup())
    used = tmp_path / "used"
    used.mkdir()
    (used / "something").write_text("x")
    result = CliRunner().invoke(cli, ["snapshot", "restore", str(good), "--data-dir", str(used),
                                      "--id", "1", "--initial-cluster", "1=127.0.0.1:1"])
    assert result.exit_code == 1
    assert "not an empty directory" in result.output
    assert sorted(p.name for p in used.iterdir()) == ["something"]


def _empty_backup() -> bytes:
    state = gc.encode(gc.GroupState(KVStore().snapshot(), [Member(1, "127.0.0.1:1")]))
    backup = Backup(cluster_id=1, group=DATA_GROUP, index=5, revision=0, conf_state=ConfState(voters=(1,)), state=state)
    return encode_backup(backup)
