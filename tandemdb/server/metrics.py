"""Prometheus metrics of one node, served at ``/metrics``. Names follow Prometheus conventions (base units,
``_total`` counters) and etcd's where etcd has one; ``docs/observability.md`` lists them all.

Durations are timed by the shell (this package) around what it does: the fsync on the group-commit thread, a
request from arrival to reply, the apply step around ``Node.persisted``, a ping's round trip. Everything else is
read from the node core when scraped. Each server has its own registry, so several can share a process.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from .. import __version__
from ..kv.results import ErrorResult
from ..node import Node
from ..node.group import GroupInfo
from ..wire.client_api import Error, Reply
from .peer_transport import PeerTransport

_SECONDS = tuple(0.0005 * 2**n for n in range(15))  # 0.5 ms .. 8.2 s
_RTT_SECONDS = tuple(0.0001 * 2**n for n in range(15))  # 0.1 ms .. 1.6 s
_RECORDS = tuple(2**n for n in range(13))  # 1 .. 4096

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def result_label(reply: Reply) -> str:
    if isinstance(reply, Error):
        return reply.kind.value
    if isinstance(reply, ErrorResult):
        return reply.code.value
    return "ok"


class NodeMetrics:
    def __init__(self, node: Node, peers: PeerTransport, data_dir: str) -> None:
        self.registry = r = CollectorRegistry(auto_describe=False)
        self.fsync = Histogram("tandem_disk_wal_fsync_duration_seconds",
                               "Time of one fdatasync of the write-ahead log.", buckets=_SECONDS, registry=r)
        self.records_per_sync = Histogram("tandem_disk_wal_records_per_sync", "Log records made durable by one fsync.",
                                          buckets=_RECORDS, registry=r)
        self.wal_bytes = Counter("tandem_disk_wal_write_bytes_total", "Bytes written to the write-ahead log.",
                                 registry=r)
        self.apply = Histogram("tandem_server_apply_duration_seconds",
                               "Time to apply what one sync made durable (committed entries, reads, replies).",
                               buckets=_SECONDS, registry=r)
        self.snapshot = Histogram("tandem_snapshot_save_duration_seconds",
                                  "Time of an apply step that saved a snapshot of a group, apply included.",
                                  buckets=_SECONDS, registry=r)
        self.rtt = Histogram("tandem_network_peer_round_trip_time_seconds",
                             "Round trip of a ping to a peer over the peer connections.", ["peer"],
                             buckets=_RTT_SECONDS, registry=r)
        self.requests = RequestMetrics()
        r.register(self.requests)
        r.register(_NodeCollector(node, peers, data_dir))

    def request_done(self, op: str, result: str, seconds: float) -> None:
        self.requests.done(op, result, seconds)

    def synced(self, seconds: float, records: int, nbytes: int) -> None:
        """Called on the group-commit thread (prometheus_client metrics are thread-safe)."""
        self.fsync.observe(seconds)
        self.records_per_sync.observe(records)
        self.wal_bytes.inc(nbytes)

    def peer_rtt(self, peer: int, seconds: float) -> None:
        self.rtt.labels(str(peer)).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """Client requests by operation and result, with a latency histogram by operation. Updated for every request
    on the event loop, so kept as plain ints (prometheus_client's metrics take a lock per update)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.buckets: dict[str, list[int]] = {}  # op -> count per bucket of _SECONDS, then +Inf
        self.sums: dict[str, float] = {}

    def done(self, op: str, result: str, seconds: float) -> None:
        key = (op, result)
        self.counts[key] = self.counts.get(key, 0) + 1
        buckets = self.buckets.get(op)
        if buckets is None:
            buckets = self.buckets[op] = [0] * (len(_SECONDS) + 1)
            self.sums[op] = 0.0
        buckets[bisect_left(_SECONDS, seconds)] += 1
        self.sums[op] += seconds

    def collect(self) -> Iterator[Metric]:
        counts = CounterMetricFamily("tandem_server_requests", "Client requests answered, by operation and result.",
                                     labels=["op", "result"])
        for (op, result), n in sorted(self.counts.items()):
            counts.add_metric([op, result], n)
        yield counts
        seconds = HistogramMetricFamily("tandem_server_request_duration_seconds",
                                        "Client request time, from arrival to reply, by operation.", labels=["op"])
        for op, buckets in sorted(self.buckets.items()):
            cumulative, total = [], 0
            for bound, n in zip([*map(str, _SECONDS), "+Inf"], buckets, strict=True):
                total += n
                cumulative.append((bound, total))
            seconds.add_metric([op], cumulative, self.sums[op])
        yield seconds


class _NodeCollector:
    """Reads the node core's state and counters when scraped."""

    def __init__(self, node: Node, peers: PeerTransport, data_dir: str) -> None:
        self.node = node
        self.peers = peers
        self.data_dir = data_dir
        # Counters start at 0 with the process: the commit and applied indexes at start are their origin.
        self._origin: dict[int, tuple[int, int]] = {}
        for group in node.groups.values():
            self._origin_of(group.info())

    def _origin_of(self, info: GroupInfo) -> tuple[int, int]:
        return self._origin.setdefault(info.group, (info.commit, info.applied))

    def collect(self) -> Iterator[Metric]:
        node = self.node
        me = node.cfg.member
        node_info = GaugeMetricFamily("tandem_server_info", "This node: id, version and placement labels.",
                                      labels=["node_id", "version", "region", "zone"])
        node_info.add_metric([str(me.id), __version__, me.region, me.zone], 1)
        yield node_info
        g = {name: GaugeMetricFamily(name, doc, labels=["group"]) for name, doc in _GROUP_GAUGES.items()}
        c = {name: CounterMetricFamily(name, doc, labels=["group"]) for name, doc in _GROUP_COUNTERS.items()}
        for group in node.groups.values():
            info = group.info()
            label = [str(info.group)]
            committed0, applied0 = self._origin_of(info)
            for name, value in (
                ("tandem_server_has_leader", info.leader != 0),
                ("tandem_server_is_leader", info.is_leader),
                ("tandem_server_group_quiesced", info.quiesced),
                ("tandem_server_proposals_pending", info.pending_writes),
                ("tandem_raft_term", info.term),
                ("tandem_raft_commit_index", info.commit),
                ("tandem_raft_applied_index", info.applied),
                ("tandem_mvcc_keys", info.machine.items),
                ("tandem_mvcc_db_size_bytes", info.machine.bytes),
            ):
                g[name].add_metric(label, int(value))
            s = info.stats
            for name, value in (
                ("tandem_server_leader_changes_seen", s.leader_changes),
                ("tandem_server_proposals_committed", info.commit - committed0),
                ("tandem_server_proposals_applied", info.applied - applied0),
                ("tandem_server_proposals_failed", s.proposals_failed),
                ("tandem_snapshot_saved", s.snapshots_saved),
                ("tandem_snapshot_installed", s.snapshots_installed),
            ):
                c[name].add_metric(label, value)
        yield from g.values()
        yield from c.values()
        yield from self._network()
        disk = GaugeMetricFamily("tandem_disk_data_size_bytes", "Bytes in the data directory: log segments, snapshots.")
        disk.add_metric([], _tree_bytes(self.data_dir))
        yield disk

    def _network(self) -> Iterator[Metric]:
        sent = CounterMetricFamily("tandem_network_peer_sent_bytes", "Bytes sent to each peer.", labels=["peer"])
        for peer, link in sorted(self.peers.links.items()):
            sent.add_metric([str(peer)], link.sent_bytes)
        received = CounterMetricFamily("tandem_network_peer_received_bytes", "Bytes received from each peer.",
                                       labels=["peer"])
        for peer, n in sorted(self.peers.received_bytes.items()):
            received.add_metric([str(peer)], n)
        yield sent
        yield received


_GROUP_GAUGES = {
    "tandem_server_has_leader": "1 if the group has a leader, as this node knows.",
    "tandem_server_is_leader": "1 if this node leads the group.",
    "tandem_server_group_quiesced": "1 if the group is idle and in sync, and sleeps: no ticks, no heartbeats.",
    "tandem_server_proposals_pending": "Client writes waiting to be proposed or applied.",
    "tandem_raft_term": "The group's current Raft term on this node.",
    "tandem_raft_commit_index": "The highest log index this node knows committed.",
    "tandem_raft_applied_index": "The highest log index this node applied.",
    "tandem_mvcc_keys": "Live keys in the group's key-value store.",
    "tandem_mvcc_db_size_bytes": "Approximate size of the group's key-value state (keys, values, history).",
}
_GROUP_COUNTERS = {
    "tandem_server_leader_changes_seen": "Leader changes this node saw.",
    "tandem_server_proposals_committed": "Log entries committed since this process started.",
    "tandem_server_proposals_applied": "Log entries applied since this process started.",
    "tandem_server_proposals_failed": "Client writes and member changes refused, overwritten by a new leader, "
                                      "or not committed in time.",
    "tandem_snapshot_saved": "Snapshots of the group saved by this node.",
    "tandem_snapshot_installed": "Snapshots received from a leader and installed.",
}


def _tree_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                pass  # removed meanwhile (compaction)
    return total
