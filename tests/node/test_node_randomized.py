"""Randomized runs of real node cores under partitions, pauses and crashes, with clients that follow
redirects and retry writes under the same (client id, seq); the history must be linearizable.

The deterministic simulator (tests/sim) checks the consensus core in depth; these runs check what the node
adds on top: batching, redirects, ReadIndex reads on any node, idempotent retries, lost proposals, timeouts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from tandemdb.checker.history import Recorder
from tandemdb.checker.linearizability import check, describe
from tandemdb.kv import Compare, ErrorResult, Put, PutResult, Range, RangeResult, Txn, TxnResult
from tandemdb.wire.client_api import Error, ErrorKind

from .cluster import Cluster

KEYS = ("a", "b", "c")
OP_TICKS = 60  # a client gives up on an op after this many ticks (it is then indeterminate)


@dataclass
class Client:
    id: int
    target: int
    seq: int = 0
    op: int | None = None  # history op id in flight
    request: object = None
    session: dict = field(default_factory=dict)
    kind: str = ""
    reqs: set[int] = field(default_factory=set)
    deadline: int = 0


def _request(kind: str, key: str, value, client: Client) -> tuple[object, dict]:
    """The operation and its session (a write's retries all carry the same one)."""
    k = key.encode()
    if kind == "read":
        return Range(k), {}
    client.seq += 1
    session = {"client_id": client.id, "seq": client.seq}
    if kind == "write":
        return Put(k, str(value).encode()), session
    expected, new = value
    cond = Compare(k, "version", "==", 0) if expected is None else Compare(k, "value", "==", str(expected).encode())
    return Txn([cond], [Put(k, str(new).encode())]), session


def _output(kind: str, reply):
    if kind == "read":
        return int(reply.kvs[0].value) if reply.kvs else None
    return reply.succeeded if kind == "cas" else None


def run(seed: int, ticks: int = 500, bugs: frozenset[str] = frozenset()) -> tuple[list, int]:
    rng = random.Random(seed)
    c = Cluster(seed=seed, request_timeout_ms=3000, bugs=bugs)
    now = 0
    history = Recorder(lambda: now)  # the tick of the loop below
    clients = [Client(i, rng.choice([1, 2, 3])) for i in range(1, 5)]
    written: dict[str, list] = {k: [None] for k in KEYS}
    value = 0
    oks = 0
    for now in range(ticks):
        # Faults: never more than one node away, so a majority can always make progress.
        if now % 40 == 0 and now < ticks - 100:
            c.heal()
            c.down.clear()
            fault = rng.choice(["partition", "pause", "crash", "none"])
            victim = rng.choice([1, 2, 3])
            if fault == "partition":
                c.isolate(victim)
            elif fault == "pause":
                c.down.add(victim)
            elif fault == "crash":
                c.restart(victim)
        if now == ticks - 100:
            c.heal()
            c.down.clear()
        for cl in clients:
            if cl.op is None and rng.random() < 0.5 and now < ticks - 40:
                key = rng.choice(KEYS)
                kind = rng.choice(["read", "read", "write", "write", "cas"])
                value += 1
                arg = None if kind == "read" else (value if kind == "write" else (rng.choice(written[key][-3:]), value))
                cl.op = history.invoke(cl.id, kind, key, arg)
                cl.request, cl.session = _request(kind, key, arg, cl)
                cl.kind, cl.reqs, cl.deadline = kind, set(), now + OP_TICKS
                cl.reqs.add(c.send(cl.target, cl.request, conn=cl.id, **cl.session))
        c.tick()
        for cl in clients:
            if cl.op is None:
                continue
            replies = [r for rid, r in c.replies[cl.id] if rid in cl.reqs]
            c.replies[cl.id] = [(rid, r) for rid, r in c.replies[cl.id] if rid not in cl.reqs]
            done = next((r for r in replies if isinstance(r, (RangeResult, PutResult, TxnResult))), None)
            if done is not None:
                history.ok(cl.op, _output(cl.kind, done))
                op = cl.op
                if cl.kind == "write" or (cl.kind == "cas" and done.succeeded):
                    written[op.key].append(op.value if cl.kind == "write" else op.value[1])
                oks += 1
                cl.op = None
                continue
            assert not any(isinstance(r, ErrorResult) for r in replies), replies
            if now >= cl.deadline:
                history.info(cl.op, "deadline")  # unknown outcome: never retried as a new op
                cl.op = None
                cl.target = rng.choice([1, 2, 3])
                continue
            for r in replies:
                if isinstance(r, Error):
                    retryable = (ErrorKind.NOT_LEADER, ErrorKind.NO_LEADER, ErrorKind.UNAVAILABLE, ErrorKind.TIMEOUT)
                    assert r.kind in retryable
                    cl.target = r.leader if r.leader in c.nodes else rng.choice([1, 2, 3])
                    cl.reqs.add(c.send(cl.target, cl.request, conn=cl.id, **cl.session))  # same session: applied once
                    break
            # A request lost with a crashed node gets no reply: resend it now and then.
            if not replies and rng.random() < 0.05:
                cl.reqs.add(c.send(cl.target, cl.request, conn=cl.id, **cl.session))
    ops = [o for o in history.ops if not (o.f == "read" and o.status != "ok")]
    return ops, oks


@pytest.mark.parametrize("seed", range(8))
def test_node_histories_under_faults_are_linearizable(seed: int) -> None:
    ops, oks = run(seed)
    assert oks > 50  # the cluster served clients through the faults
    result = check(ops)
    assert result.valid is True, describe(result, ops)


def test_the_randomized_runs_catch_a_follower_serving_stale_reads() -> None:
    ops, _ = run(0, bugs=frozenset({"stale_follower_read"}))  # seed 0 isolates a follower that clients read from
    assert check(ops).valid is False
