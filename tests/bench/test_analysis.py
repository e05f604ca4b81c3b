"""The arithmetic of the benchmark reports: percentiles, the failover outage, ratios and targets, Zipfian keys."""

from __future__ import annotations

import random
from collections import Counter

from tandemdb.bench.report import ratios, targets
from tandemdb.bench.stats import Latencies, percentile
from tandemdb.bench.workloads.failover import Failover
from tandemdb.bench.workloads.ycsb_a import Zipfian


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 1001)]
    assert percentile(values, 50) == 500
    assert percentile(values, 99) == 990
    assert percentile(values, 99.9) == 999
    assert percentile([], 50) is None


def test_failover_outage_ends_with_the_first_write_sent_and_answered_after_the_kill() -> None:
    # Writes every 10 ms; the leader dies at 1.0; one reply lands just after; writes resume at 2.5.
    ends = [i / 100 for i in range(1, 100)] + [1.0005] + [2.5 + i / 100 for i in range(50)]
    pairs = [(end - 0.005, end) for end in ends] + [(0.999, 2.5)]  # one write waited through the outage
    summary = Failover(100).summarize(Latencies(pairs, 0.0, 3.0), killed_at=1.0)
    assert summary["recovered"] is True
    assert summary["unavailable_s"] == 1.5
    assert summary["p999_ms"] == 1501.0


def test_a_later_stall_is_not_counted_as_the_failover() -> None:
    # The leader dies at 1.0, writes resume at 1.2; later nothing completes between 2.0 and 2.4.
    ends = [i / 100 for i in range(1, 100)] + [1.2 + i / 100 for i in range(80)] + [2.4 + i / 100 for i in range(50)]
    pairs = [(end - 0.005, end) for end in ends]
    summary = Failover(100).summarize(Latencies(pairs, 0.0, 3.0), killed_at=1.0)
    assert summary["recovered"] is True
    assert summary["unavailable_s"] == 0.2


def test_failover_without_recovery_runs_to_the_end_of_the_window() -> None:
    pairs = [(i / 100 - 0.005, i / 100) for i in range(1, 100)]
    summary = Failover(100).summarize(Latencies(pairs, 0.0, 3.0), killed_at=1.0)
    assert summary["recovered"] is False
    assert summary["unavailable_s"] == 2.0


def row(system: str, workload: str, clients: int, throughput: float, p99: float, **extra) -> dict:
    return {"system": system, "workload": workload, "clients": clients, "throughput": throughput,
            "p50_ms": 1.0, "p99_ms": p99, "p999_ms": p99, **extra}


def test_ratios_and_targets() -> None:
    rows = [
        row("tandem", "write", 64, 12000, 10),
        row("etcd", "write", 64, 10000, 12),
        row("pysyncobj", "write", 64, 3000, 90),
        row("tandem", "failover", 64, 5000, 900, unavailable_s=1.2, recovered=True),
        row("etcd", "failover", 64, 6000, 900, unavailable_s=2.0, recovered=False),
    ]
    by_peer = {(r["peer"], r["workload"]): r for r in ratios(rows)}
    assert by_peer["etcd", "write"]["throughput"] == 1.2
    assert "unavailable_s" not in by_peer["etcd", "failover"]  # etcd's outage is only a lower bound
    verdicts = {t["target"]: t["met"] for t in targets(ratios(rows))}
    assert verdicts["writes at 64 clients: throughput >= 1.0x etcd"] is True
    assert verdicts["writes at 64 clients: p99 no worse than etcd"] is True
    assert verdicts["writes: throughput >= 5x PySyncObj"] is False
    assert verdicts["linearizable reads at 64 clients: throughput >= 1.0x etcd"] is None
    assert verdicts["failover: unavailability no longer than etcd's"] is None


def test_zipfian_favours_few_keys_spread_over_the_key_space() -> None:
    zipf = Zipfian(1000)
    rng = random.Random(1)
    counts = Counter(zipf.sample(rng) for _ in range(20000))
    hottest = [k for k, _ in counts.most_common(10)]
    assert sum(counts[k] for k in hottest) > 0.2 * 20000
    assert hottest != list(range(10))
    assert all(0 <= k < 1000 for k in counts)
