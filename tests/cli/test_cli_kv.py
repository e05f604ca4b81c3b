"""``put``, ``get``, ``del``, ``txn``, ``watch``, ``compaction``: etcdctl-like output, json, table, exit codes."""

from __future__ import annotations

import asyncio
import base64
import json

from fake_node import free_port
from tandemdb.kv.commands import Put


def ok(result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def test_put_and_get(tandem):
    assert ok(tandem("put", "k1", "v1")) == "OK\n"
    assert ok(tandem("put", "k2", input=b"from\nstdin\n")) == "OK\n"
    assert ok(tandem("put", "--prev-kv", "k1", "v2")) == "OK\nk1\nv1\n"
    assert ok(tandem("get", "k1")) == "k1\nv2\n"
    assert ok(tandem("get", "k", "--prefix")) == "k1\nv2\nk2\nfrom\nstdin\n\n"
    assert ok(tandem("get", "k1", "k3", "--keys-only")) == "k1\nk2\n"
    assert ok(tandem("get", "k", "--prefix", "--print-value-only", "--limit", "1")) == "v2\n"
    assert ok(tandem("get", "k", "--prefix", "--count-only")) == "2\n"
    assert ok(tandem("get", "k1", "--rev", "1")) == "k1\nv1\n"
    assert ok(tandem("get", "k1", "--consistency", "s")) == "k1\nv2\n"
    assert ok(tandem("get", "missing")) == ""


def test_json_shows_text_or_base64(tandem):
    ok(tandem("put", "text", "héllo"))
    ok(tandem("put", "binary", input=b"\xff\x00"))
    result = json.loads(ok(tandem("-w", "json", "get", "", "--prefix")))
    assert result["type"] == "range" and result["count"] == 2
    values = {kv["key"]: kv["value"] for kv in result["kvs"]}
    assert values == {"text": "héllo", "binary": base64.b64encode(b"\xff\x00").decode()}


def test_table(tandem):
    ok(tandem("put", "k", "v"))
    out = ok(tandem("-w", "table", "get", "k"))
    assert "KEY" in out and "MOD REV" in out and "│ k " in out


def test_delete(tandem):
    ok(tandem("put", "a/1", "x"))
    ok(tandem("put", "a/2", "y"))
    assert ok(tandem("del", "a/1", "--prev-kv")) == "1\na/1\nx\n"
    assert ok(tandem("del", "a/", "--prefix")) == "1\n"
    assert ok(tandem("del", "a/", "--prefix")) == "0\n"


def test_txn(tandem):
    ok(tandem("put", "k", "v"))
    script = 'value("k") = "v"\nmod("k") > "0"\n\nput k "new value"\nget k\n\ndel k\n'
    assert ok(tandem("txn", input=script)) == "SUCCESS\n\nOK\n\nk\nnew value\n"
    assert ok(tandem("txn", input=script)) == "FAILURE\n\n1\n"
    result = json.loads(ok(tandem("-w", "json", "txn", input='version("k") = "0"\n\nput k again\n\n')))
    assert result["succeeded"] and result["responses"][0]["type"] == "put"


def test_txn_syntax_errors_are_usage_errors(tandem):
    result = tandem("txn", input='value(k) = "v"\n\n\n')
    assert result.exit_code == 2 and "bad compare" in result.stderr
    result = tandem("txn", input='\nput k\n\n')
    assert result.exit_code == 2 and "bad request 'put k'" in result.stderr


def test_compaction_then_reading_the_past_fails_cleanly(tandem):
    for value in "abc":
        ok(tandem("put", "k", value))
    assert ok(tandem("compaction", "2")) == "compacted revision 2\n"
    result = tandem("get", "k", "--rev", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: compacted") and "compact revision 2" in result.stderr
    assert "Traceback" not in result.output


def test_watch_prints_events_until_the_watch_ends(tandem, cluster, background):
    ok(tandem("put", "w", "1"))
    ok(tandem("put", "w", "2"))
    ok(tandem("del", "w"))
    asyncio.run_coroutine_threadsafe(cluster.store.end_watches("test over"), background.loop)
    result = tandem("watch", "w", "--rev", "2", "--prev-kv")
    assert result.stdout == "PUT\nw\n1\nw\n2\nDELETE\nw\n2\nw\n\n"
    assert result.exit_code == 1 and result.stderr == "Error: watch canceled: test over\n"


def test_watch_json(tandem, cluster, background):
    background.call(cluster.store.apply, Put(b"w", b"1"))
    asyncio.run_coroutine_threadsafe(cluster.store.end_watches("done"), background.loop)
    lines = tandem("-w", "json", "watch", "w", "--rev", "1").stdout.splitlines()
    batches = [json.loads(line) for line in lines]
    assert batches[0]["created"]
    assert batches[1]["events"][0]["type"] == "PUT" and batches[1]["events"][0]["kv"]["value"] == "1"
    assert batches[-1]["canceled"]


def test_unreachable_cluster_and_bad_endpoints(tandem):
    dead = f"127.0.0.1:{free_port()}"
    result = tandem("--command-timeout", "300ms", "get", "k", endpoints=dead)
    assert result.exit_code == 1 and dead in result.stderr and result.stderr.startswith("Error: ")
    result = tandem("get", "k", endpoints="nonsense")
    assert result.exit_code == 2 and "bad endpoint" in result.stderr
