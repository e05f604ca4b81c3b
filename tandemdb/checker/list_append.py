"""Checker for list-append transactions, after Elle (Kingsbury and Alvaro, "Elle: Inferring Isolation Anomalies
from Experimental Observations", 2020).

Each transaction is a list of micro-ops on keys whose values are lists: ``["append", k, v]`` appends ``v`` to
``k``, ``["r", k, list]`` reads ``k`` (the list it saw once the transaction is ``ok``). Every value appended
to a key is unique, so a read names the transaction that appended each element, and the longest read of a key
gives the order of its versions; every other read must be a prefix of it ("incompatible-order").

From that order the checker infers the dependencies between transactions: ``ww`` (T2 appended the element
right after T1's), ``wr`` (T2 read a list ending with T1's element), ``rw`` (T1 read a list that T2's
element extends next: an anti-dependency), and with ``realtime`` also ``rt`` (T1 completed before T2
began: strict serializability). A cycle of dependencies is an anomaly, named as by Adya: G0 (``ww`` only),
G1c (``ww`` and ``wr``), G-single (exactly one ``rw``), G2 (more than one ``rw``), with "-realtime" appended
when the cycle needs an ``rt`` edge. Also: G1a (a read saw an element of a failed transaction), G1b (a read
ended with an element that its transaction followed by another append to the same key), "internal" (a read
disagrees with the transaction's own earlier reads and appends), "lost-append" (an acknowledged append that
no read saw, though a read of its key began after it completed), "duplicate-elements" and "garbage-read" (an
element appended by nobody).

``info`` transactions may or may not have committed: their appends are used once a read saw them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import msgspec

from .graph import DepGraph

CYCLE_TYPES = ("G0", "G1c", "G-single", "G2")
_SEARCH = {  # the edge kinds a cycle may use, and the kind it must contain
    "G0": (frozenset({"ww"}), "ww"),
    "G1c": (frozenset({"ww", "wr"}), "wr"),
    "G-single": (frozenset({"ww", "wr"}), "rw"),
    "G2": (frozenset({"ww", "wr", "rw"}), "rw"),
}
_MAX_TRIES = 300  # edges tried per component and anomaly type


class Txn(msgspec.Struct, kw_only=True):
    id: int
    status: str  # ok, fail or info
    invoke: float
    complete: float | None = None
    mops: list[list[Any]]  # ["append", key, value] | ["r", key, list | None]


class Anomaly(msgspec.Struct, kw_only=True):
    type: str
    ops: list[int]  # the transactions involved
    explanation: str


class AppendResult(msgspec.Struct, kw_only=True):
    valid: bool
    anomaly_types: list[str]
    anomalies: list[Anomaly]  # at most ``max_per_type`` of each type
    counts: dict[str, int]  # anomalies found per type (components, for cycles)
    txns: int
    keys: int


class _Found:
    def __init__(self, max_per_type: int) -> None:
        self.max = max_per_type
        self.anomalies: list[Anomaly] = []
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, kind: str, ops: list[int], explanation: str) -> None:
        self.counts[kind] += 1
        if self.counts[kind] <= self.max:
            self.anomalies.append(Anomaly(type=kind, ops=ops, explanation=explanation))


def check(txns: list[Txn], *, realtime: bool = True, max_per_type: int = 5) -> AppendResult:
    found = _Found(max_per_type)
    by_id = {t.id: t for t in txns}
    writer, last_append = _index_appends(txns, found)
    reads = [(t.id, k, v) for t in txns if t.status == "ok" for f, k, v in t.mops if f == "r" and v is not None]
    for t in txns:
        if t.status == "ok":
            _check_internal(t, found)
    order = _version_orders(reads, found)
    compatible = [(tid, k, v) for tid, k, v in reads if order[k][: len(v)] == v]
    _check_reads(reads, writer, last_append, by_id, found)
    _check_lost(txns, order, by_id, found)

    committed = {t.id for t in txns if t.status == "ok"} | {
        writer[(k, e)] for _, k, v in reads for e in v if (k, e) in writer and by_id[writer[(k, e)]].status == "info"
    }
    graph, why = _dependencies(order, compatible, writer, committed)
    if realtime:
        _realtime_edges([by_id[i] for i in committed], graph, why)
    _find_cycles(graph, why, realtime, found)
    types = sorted(found.counts)
    return AppendResult(
        valid=not types,
        anomaly_types=types,
        anomalies=found.anomalies,
        counts=dict(found.counts),
        txns=len(txns),
        keys=len({k for t in txns for _, k, _ in t.mops}),
    )


def _index_appends(txns: list[Txn], found: _Found) -> tuple[dict[tuple, int], dict[tuple, Any]]:
    """(key, value) -> the transaction that appended it; (key, txn) -> its last value appended to key."""
    writer: dict[tuple, int] = {}
    last: dict[tuple, Any] = {}
    for t in txns:
        for f, k, v in t.mops:
            if f != "append":
                continue
            if (k, v) in writer:
                found.add("duplicate-appends", [writer[(k, v)], t.id], f"{v!r} was appended to {k!r} twice")
            writer[(k, v)] = t.id
            last[(k, t.id)] = v
    return writer, last


def _check_internal(t: Txn, found: _Found) -> None:
    known: dict[str, list] = {}  # key -> its whole value, once read
    appended: dict[str, list] = defaultdict(list)  # key -> appended before any read of it
    for f, k, v in t.mops:
        if f == "append":
            (known[k].append(v) if k in known else appended[k].append(v))
            continue
        if v is None:
            continue
        expected_ok = v == known[k] if k in known else v[len(v) - len(appended[k]) :] == appended[k]
        if not expected_ok:
            want = known[k] if k in known else f"a list ending with {appended[k]}"
            found.add("internal", [t.id], f"T{t.id} read {k!r} = {v} but its own ops imply {want}")
        known[k] = list(v)


def _version_orders(reads: list[tuple[int, str, list]], found: _Found) -> dict[str, list]:
    longest: dict[str, tuple[int, list]] = {}
    for tid, k, v in reads:
        if len(set(v)) != len(v):
            found.add("duplicate-elements", [tid], f"T{tid} read {k!r} = {v}, with an element twice")
        if k not in longest or len(v) > len(longest[k][1]):
            longest[k] = (tid, v)
    for tid, k, v in reads:
        other, full = longest[k]
        if full[: len(v)] != v:
            found.add(
                "incompatible-order",
                [tid, other],
                f"T{tid} read {k!r} = {v}, which is not a prefix of T{other}'s read {full}",
            )
    return defaultdict(list, {k: v for k, (_, v) in longest.items()})


def _check_reads(
    reads: list[tuple[int, str, list]], writer: dict, last_append: dict, by_id: dict[int, Txn], found: _Found
) -> None:
    for tid, k, v in reads:
        for e in v:
            w = writer.get((k, e))
            if w is None:
                found.add("garbage-read", [tid], f"T{tid} read {k!r} = {v}, but nobody appended {e!r}")
            elif by_id[w].status == "fail":
                found.add("G1a", [w, tid], f"T{tid} read {e!r} in {k!r}, appended by T{w}, which failed (aborted read)")
        if v:
            w = writer.get((k, v[-1]))
            if w is not None and w != tid and last_append[(k, w)] != v[-1]:
                found.add(
                    "G1b",
                    [w, tid],
                    f"T{tid} read {k!r} = {v}, ending with {v[-1]!r}: T{w} went on to append "
                    f"{last_append[(k, w)]!r} to {k!r} (intermediate read)",
                )


def _check_lost(txns: list[Txn], order: dict[str, list], by_id: dict[int, Txn], found: _Found) -> None:
    """An ok append that no read ever saw, though a read of its key began after it completed. (One that some
    read saw has its place in the version order, and such a read makes a realtime cycle instead.)"""
    last_read: dict[str, tuple[float, int]] = {}  # key -> (invoke, txn) of its last read to begin
    for t in txns:
        if t.status == "ok":
            for f, k, _ in t.mops:
                if f == "r" and (k not in last_read or t.invoke > last_read[k][0]):
                    last_read[k] = (t.invoke, t.id)
    for t in txns:
        if t.status != "ok":
            continue
        for f, k, v in t.mops:
            if f == "append" and v not in order[k] and k in last_read and last_read[k][0] > _completed(t):
                reader = last_read[k][1]
                found.add(
                    "lost-append",
                    [t.id, reader],
                    f"T{t.id} appended {v!r} to {k!r} and completed before T{reader} began, which read "
                    f"{k!r} = {_read_of(by_id[reader], k)} without it; no read ever saw it",
                )


def _completed(t: Txn) -> float:
    """When ``t``, an ok transaction, completed."""
    if t.complete is None:
        raise ValueError(f"T{t.id} is ok but has no completion time")
    return t.complete


def _read_of(t: Txn, key: str) -> list:
    return next(v for f, k, v in reversed(t.mops) if f == "r" and k == key)


def _dependencies(
    order: dict[str, list], reads: list[tuple[int, str, list]], writer: dict[tuple, int], committed: set[int]
) -> tuple[DepGraph, dict]:
    graph = DepGraph()
    why: dict[tuple[int, int, str], str] = {}

    def edge(a: int | None, b: int | None, kind: str, reason: str) -> None:
        if a is not None and b is not None and a != b and a in committed and b in committed:
            graph.add(a, b, kind)
            why.setdefault((a, b, kind), reason)

    for k, versions in order.items():
        for prev, nxt in itertools.pairwise(versions):
            a, b = writer.get((k, prev)), writer.get((k, nxt))
            edge(a, b, "ww", f"T{a} appended {prev!r} to {k!r}, T{b} appended {nxt!r} right after it")
    for tid, k, v in reads:
        if v and (k, v[-1]) in writer:
            w = writer[(k, v[-1])]
            edge(w, tid, "wr", f"T{tid} read {k!r} ending with {v[-1]!r}, which T{w} appended")
        versions = order[k]
        if len(v) < len(versions) and (k, versions[len(v)]) in writer:
            w = writer[(k, versions[len(v)])]
            seen = f"ending with {v[-1]!r}" if v else "empty"
            edge(tid, w, "rw", f"T{tid} read {k!r} {seen}; T{w} appended {versions[len(v)]!r}, the next element")
    for t in committed:
        graph.out.setdefault(t, {})
    return graph, why


def _realtime_edges(txns: list[Txn], graph: DepGraph, why: dict) -> None:
    """T1 -> T2 when T1 completed before T2 was invoked, transitively reduced: each invocation links from the
    'frontier', the completed transactions not already ordered before another completed one."""
    events: list[tuple[float, int, int, Txn]] = []
    for t in txns:
        events.append((t.invoke, 1, t.id, t))
        if t.status == "ok":
            events.append((_completed(t), 0, t.id, t))  # at equal times, completions first: they are not concurrent
    events.sort(key=lambda e: e[:3])
    frontier: set[int] = set()
    before: dict[int, set[int]] = {}
    for at, is_invoke, tid, _ in events:
        if is_invoke:
            before[tid] = set(frontier)
            for a in frontier:
                graph.add(a, tid, "rt")
                why.setdefault((a, tid, "rt"), f"T{a} completed before T{tid} began ({at:.3f} s)")
        else:
            frontier -= before.get(tid, set())
            frontier.add(tid)


def _find_cycles(graph: DepGraph, why: dict, realtime: bool, found: _Found) -> None:
    for component in graph.components():
        for name in CYCLE_TYPES:
            cycle = _cycle(graph, component, name, realtime=False)
            label = name
            if cycle is None and realtime:
                cycle = _cycle(graph, component, name, realtime=True)
                label = f"{name}-realtime"
            if cycle is not None:
                found.add(label, [tid for tid, _ in cycle[:-1]], _explain(cycle, why))


def _cycle(graph: DepGraph, component: set[int], name: str, *, realtime: bool) -> list[tuple[int, str]] | None:
    kinds, through = _SEARCH[name]
    if realtime:
        kinds = kinds | {"rt"}
    tries = 0
    for a in component:
        for b, edge_kinds in graph.out[a].items():
            if b not in component or through not in edge_kinds:
                continue
            tries += 1
            if tries > _MAX_TRIES:
                return None
            rest = graph.path(b, a, kinds, component)
            if rest is None:
                continue
            cycle = [(a, through)] + rest
            rw = sum(kind == "rw" for _, kind in cycle)
            rt = any(kind == "rt" for _, kind in cycle)
            if rt != realtime or (name == "G2" and rw < 2) or (name == "G-single" and rw != 1):
                continue
            return cycle
    return None


def _explain(cycle: list[tuple[int, str]], why: dict) -> str:
    lines = []
    for (a, kind), (b, _) in itertools.pairwise(cycle):
        lines.append(f"T{a} -{kind}-> T{b}: {why[(a, b, kind)]}")
    return "\n".join(lines)
