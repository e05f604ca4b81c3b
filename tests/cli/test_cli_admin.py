"""``lease``, ``member``, ``move-leader``, ``endpoint``, ``snapshot``: output formats and exit codes."""

from __future__ import annotations

import json
import re

from fake_node import free_port
from tandemdb.node.backup import decode_backup


def ok(result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def test_lease_lifecycle(tandem):
    granted = ok(tandem("lease", "grant", "60"))
    lease = re.fullmatch(r"lease ([0-9a-f]+) granted with TTL\(60s\)\n", granted)[1]
    ok(tandem("put", "k", "v", "--lease", lease))
    ttl = ok(tandem("lease", "timetolive", lease, "--keys"))
    assert ttl == f"lease {lease} granted with TTL(60s), remaining(60s), attached keys([k])\n"
    assert ok(tandem("lease", "list")) == f"found 1 leases\n{lease}\n"
    assert ok(tandem("lease", "keep-alive", "--once", lease)) == f"lease {lease} keepalived with TTL(60s)\n"
    assert ok(tandem("lease", "revoke", lease)) == f"lease {lease} revoked\n"
    assert ok(tandem("lease", "timetolive", lease)) == f"lease {lease} already expired\n"
    assert ok(tandem("get", "k")) == ""
    assert json.loads(ok(tandem("-w", "json", "lease", "list"))) == {"type": "lease_list", "ids": []}


def test_lease_errors(tandem):
    result = tandem("lease", "revoke", "abc")
    assert result.exit_code == 1 and result.stderr.startswith("Error: lease_not_found")
    result = tandem("lease", "keep-alive", "--once", "abc")
    assert result.exit_code == 1 and result.stderr == "Error: lease abc expired or revoked\n"
    result = tandem("put", "k", "v", "--lease", "xyz")
    assert result.exit_code == 2 and "not a hexadecimal lease id" in result.stderr


def test_members(tandem, cluster):
    listed = ok(tandem("member", "list")).splitlines()
    assert listed[0] == f"1, 127.0.0.1:7001, {cluster.nodes[0].endpoint}, , r1, z1, false"
    assert len(listed) == 3
    added = tandem("member", "add", "0", "--peer-urls", "10.0.0.4:2380", "--zone", "z4")
    assert ok(added) == "Member 4 added to cluster as a learner\n"
    assert ok(tandem("member", "promote", "4")) == "Member 4 promoted in cluster\n"
    members = json.loads(ok(tandem("-w", "json", "member", "list")))["members"]
    assert members[3] == {"member": {"id": 4, "peer": "10.0.0.4:2380", "client": "", "http": "", "region": "",
                                     "zone": "z4"}, "learner": False}
    assert ok(tandem("member", "remove", "4")) == "Member 4 removed from cluster\n"
    missing = tandem("member", "remove", "99")
    assert missing.exit_code == 1 and "member 99 not found" in missing.stderr
    table = ok(tandem("-w", "table", "member", "list"))
    assert "PEER ADDR" in table and "127.0.0.1:7003" in table
    assert ok(tandem("move-leader", "2")) == "Leadership transferred to member 2\n"


def test_endpoint_status(tandem, cluster):
    lines = ok(tandem("endpoint", "status")).splitlines()
    assert [line.split(", ")[:5] for line in lines] == [
        ["3", cluster.nodes[2].endpoint, "r1", "z3", "false"],
        ["2", cluster.nodes[1].endpoint, "r1", "z2", "false"],
    ]
    statuses = json.loads(ok(tandem("-w", "json", "endpoint", "status", "--cluster")))
    assert [s["status"]["is_leader"] for s in statuses] == [True, False, False]
    assert "COMMIT INDEX" in ok(tandem("-w", "table", "endpoint", "status"))


def test_endpoint_status_and_health_with_a_dead_endpoint(tandem, cluster):
    dead = f"127.0.0.1:{free_port()}"
    endpoints = f"{cluster.nodes[0].endpoint},{dead}"
    status = tandem("--dial-timeout", "200ms", "endpoint", "status", endpoints=endpoints)
    assert status.exit_code == 1 and status.stdout.startswith("1, ")
    assert status.stderr.startswith(f"Error: failed to get the status of endpoint {dead}")
    health = tandem("endpoint", "health", endpoints=endpoints)
    assert health.exit_code == 1
    healthy, unhealthy = health.stdout.splitlines()
    assert healthy.startswith(f"{cluster.nodes[0].endpoint} is healthy: served a linearizable read: took = ")
    assert unhealthy.startswith(f"{dead} is unhealthy: ") and health.stderr == "Error: unhealthy cluster\n"


def test_endpoint_health_of_the_cluster(tandem):
    checks = json.loads(ok(tandem("-w", "json", "endpoint", "health", "--cluster")))
    assert [c["health"] for c in checks] == [True, True, True]


def test_snapshot_save_and_status(tandem, tmp_path):
    ok(tandem("put", "a", "1"))
    ok(tandem("put", "b", "2"))
    path = tmp_path / "backup.db"
    assert ok(tandem("snapshot", "save", str(path))) == f"Snapshot saved at {path} (index 12, revision 2)\n"
    assert decode_backup(path.read_bytes()).revision == 2
    assert [p.name for p in tmp_path.iterdir()] == ["backup.db"]
    hash_, revision, keys, _size, index, members = ok(tandem("snapshot", "status", str(path))).strip().split(", ")
    assert (revision, keys, index, members) == ("2", "2", "12", "1,2,3")
    info = json.loads(ok(tandem("-w", "json", "snapshot", "status", str(path))))
    assert info["hash"] == hash_ and info["size"] == path.stat().st_size


def test_snapshot_status_of_a_bad_file(tandem, tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"junk")
    result = tandem("snapshot", "status", str(path))
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {path}: not a Tandem backup")
