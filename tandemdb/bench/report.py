"""The results as a terminal table and a JSON file, with Tandem's ratios to each peer measured in the same run and
the issue's targets checked against them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

BASE = "tandem"


@dataclass
class Target:
    description: str
    workload: str
    clients: int | None  # None: every client count run by both
    peer: str
    metric: str
    at_least: float | None = None  # ratio tandem/peer must be >= this
    at_most: float | None = None  # ... or <= this

    def check(self, ratios: list[dict]) -> dict:
        found = [r for r in ratios if r["workload"] == self.workload and r["peer"] == self.peer
                 and (self.clients is None or r["clients"] == self.clients) and r.get(self.metric) is not None]
        values = [r[self.metric] for r in found]
        if not values:
            return {"target": self.description, "ratio": None, "met": None}
        worst = min(values) if self.at_least is not None else max(values)
        met = worst >= self.at_least if self.at_least is not None else worst <= self.at_most
        return {"target": self.description, "ratio": worst, "met": met}


TARGETS = [
    Target("writes at 64 clients: throughput >= 1.0x etcd", "write", 64, "etcd", "throughput", at_least=1.0),
    Target("writes at 64 clients: p99 no worse than etcd", "write", 64, "etcd", "p99_ms", at_most=1.0),
    Target("linearizable reads at 64 clients: throughput >= 1.0x etcd", "read", 64, "etcd", "throughput",
           at_least=1.0),
    Target("failover: unavailability no longer than etcd's", "failover", None, "etcd", "unavailable_s", at_most=1.0),
    Target("writes: throughput >= 5x PySyncObj", "write", None, "pysyncobj", "throughput", at_least=5.0),
]
RATIO_METRICS = ("throughput", "p50_ms", "p99_ms", "p999_ms", "unavailable_s")
RATIO_HEADERS = ("ops/s", "p50", "p99", "p99.9", "outage")


def ratios(rows: list[dict]) -> list[dict]:
    """Tandem's value divided by each peer's, for every (workload, clients) both ran."""
    by_key = {(r["system"], r["workload"], r["clients"]): r for r in rows}
    out = []
    for (system, workload, clients), peer in by_key.items():
        base = by_key.get((BASE, workload, clients))
        if system == BASE or base is None:
            continue
        entry = {"workload": workload, "clients": clients, "peer": system}
        unrecovered = not (base.get("recovered", True) and peer.get("recovered", True))
        for metric in RATIO_METRICS:
            if metric == "unavailable_s" and unrecovered:
                continue  # a lower bound on either side: no ratio
            if base.get(metric) is not None and peer.get(metric):
                entry[metric] = round(base[metric] / peer[metric], 3)
        out.append(entry)
    return out


def targets(ratio_rows: list[dict]) -> list[dict]:
    return [t.check(ratio_rows) for t in TARGETS]


def write_json(path: Path, rows: list[dict], machine: dict, command: str) -> None:
    ratio_rows = ratios(rows)
    data = {"results": rows, "ratios": ratio_rows, "targets": targets(ratio_rows), "machine": machine,
            "command": command}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def print_report(console: Console, rows: list[dict], machine: dict) -> None:
    table = Table(title="results", title_justify="left",
                  caption="latency in ms; outage in s (failover); CPU in seconds per 1,000 operations",
                  caption_justify="left")
    for name in ("system", "workload", "clients", "ops/s", "p50", "p99", "p99.9", "outage", "server CPU",
                 "client CPU", "errors"):
        table.add_column(name, justify="left" if name in ("system", "workload") else "right", no_wrap=True)
    for r in rows:
        table.add_row(r["system"], r["workload"], str(r["clients"]), f"{r['throughput']:,.0f}", _num(r["p50_ms"]),
                      _num(r["p99_ms"]), _num(r["p999_ms"]), _outage(r),
                      _num(r["server_cpu_s_per_1k"]), _num(r["client_cpu_s_per_1k"]), str(r["errors"]))
    console.print(table)
    ratio_rows = ratios(rows)
    if ratio_rows:
        table = Table(title=f"{BASE} / peer (same run)", title_justify="left")
        for name in ("peer", "workload", "clients", *RATIO_HEADERS):
            table.add_column(name, justify="left" if name in ("peer", "workload") else "right", no_wrap=True)
        for r in ratio_rows:
            table.add_row(r["peer"], r["workload"], str(r["clients"]), *(_num(r.get(m)) for m in RATIO_METRICS))
        console.print(table)
        for t in targets(ratio_rows):
            label, style = {True: ("met", "green"), False: ("not met", "red"), None: ("not measured", "dim")}[t["met"]]
            ratio = f" (ratio {t['ratio']})" if t["ratio"] is not None else ""
            console.print(f"  [{style}]{label:<12}[/] {t['target']}{ratio}")
    clients = {r["system"]: r["client"] for r in rows}
    for system, client in clients.items():
        console.print(f"  {system} driven by: {client}")
    console.print(f"  machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
                  f"data on {machine['filesystem']}, load average before {machine['load_average_before']} "
                  f"after {machine['load_average_after']}")


def _outage(row: dict) -> str:
    if "unavailable_s" not in row:
        return "-"
    return _num(row["unavailable_s"]) if row["recovered"] else f">{_num(row['unavailable_s'])}"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
