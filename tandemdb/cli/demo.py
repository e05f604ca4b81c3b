"""``tandem demo``: a local cluster of real node processes, with sample data and a small console to play with.

Run again on the same ``--data-dir``, it restarts the same cluster (layout in ``cluster.json``) with its data.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import click
from click.core import ParameterSource

from ..tools.local_cluster import ClusterError, LocalCluster, Timing

COUNTER = b"demo/counter"


class _Stop(Exception):
    """Raised by the SIGTERM/SIGINT/SIGHUP handler to leave whatever the demo is doing."""


def write_endpoints(cluster: LocalCluster, path: Path) -> None:
    nodes = [
        {"id": s.id, "endpoint": s.client, "http": s.http_url, "pid": cluster.pid(s.id)}
        for s in cluster.nodes.values()
    ]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"nodes": nodes}, indent=2) + "\n")
    os.replace(tmp, path)


def load_sample_data(endpoints: list[str]) -> None:
    from ..client import Client, Compare, Put

    with Client(endpoints, timeout=10.0) as c:
        users = {"1": "ada", "2": "grace", "3": "barbara"}
        for uid, name in users.items():
            c.put(f"demo/users/{uid}", json.dumps({"name": name}))
        c.put("demo/config/greeting", "hello from tandem")
        for _ in range(3):  # a counter bumped with compare-and-swap, as concurrent clients would
            while True:
                kvs = c.get(COUNTER).kvs
                old = kvs[0].value if kvs else b"0"
                new = str(int(old) + 1).encode()
                # "value ==" is false for a missing key: create the counter only if it has no version yet.
                cmp = Compare(COUNTER, "value", "==", old) if kvs else Compare(COUNTER, "version", "==", 0)
                if c.txn([cmp], [Put(COUNTER, new)], []).succeeded:
                    break


def print_banner(cluster: LocalCluster, endpoints_file: Path, leader: int) -> None:
    eps = ",".join(cluster.endpoints())
    first = next(iter(cluster.nodes.values()))
    click.echo(f"Tandem demo: {len(cluster.nodes)} nodes in {cluster.root}, leader is node {leader}")
    for s in cluster.nodes.values():
        click.echo(f"  node {s.id}  client {s.client}  http {s.http_url}  pid {cluster.pid(s.id)}  ({s.zone})")
    click.echo(f"endpoints file: {endpoints_file}")
    click.echo(f"console: {first.http_url}/console/")
    click.echo("try:")
    click.echo(f"  tandem --endpoints {eps} get --prefix demo/")
    click.echo(f"  tandem --endpoints {eps} put demo/hello world")
    click.echo(f"  curl -XPOST {first.http_url}/v1/kv/range -d '{{\"key\":\"demo/\",\"prefix\":true}}'")


def _on_signal(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _wait_for_signal() -> None:
    while True:
        time.sleep(3600)


@click.command()
@click.option("--nodes", type=click.IntRange(min=1, max=9), default=3, show_default=True,
              help="Nodes of a new cluster.")
@click.option("--data-dir", type=click.Path(file_okay=False), default="./tandem-demo", show_default=True,
              help="Where the cluster lives; run again on it to restart the same cluster.")
@click.option("--endpoints-file", type=click.Path(dir_okay=False), default=None,
              help="JSON file listing the nodes (default: DATA_DIR/endpoints.json).")
@click.option("--base-port", type=click.IntRange(min=1, max=65000), default=None,
              help="Node k (from 0) listens on BASE+3k (client), +1 (peer), +2 (http). Default: free ports.")
@click.option("--tick-ms", type=click.IntRange(min=1), default=100, show_default=True,
              help="Raft tick of a new cluster.")
def demo(nodes: int, data_dir: str, endpoints_file: str | None, base_port: int | None, tick_ms: int) -> None:
    """Start a local cluster of NODES processes with sample data, and a console when run in a terminal.

    Without a terminal it serves until SIGTERM or SIGINT; either way all nodes are stopped gracefully at the end.
    """
    root = Path(data_dir)
    endpoints_path = Path(endpoints_file) if endpoints_file else root / "endpoints.json"
    new = not LocalCluster.exists(root)
    try:
        if new:
            cluster = LocalCluster.create(root, nodes, base_port=base_port, timing=Timing(tick_ms=tick_ms))
        else:
            cluster = LocalCluster.load(root)
            explicit = click.get_current_context().get_parameter_source("nodes") is ParameterSource.COMMANDLINE
            if explicit and len(cluster.nodes) != nodes:
                click.echo(f"note: reusing the cluster in {root} ({len(cluster.nodes)} nodes); --nodes is ignored")
    except (ClusterError, OSError) as e:
        raise click.ClickException(str(e)) from None

    from ..client.errors import TandemError

    # SIGHUP too (the terminal closed), unless it is ignored (nohup): the nodes run in their own sessions and
    # would outlive the demo otherwise.
    stop_signals = [signal.SIGTERM, signal.SIGINT]
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        stop_signals.append(signal.SIGHUP)
    previous = {sig: signal.signal(sig, _on_signal) for sig in stop_signals}
    failure = None
    try:
        cluster.start_all()
        leader = cluster.wait_for_leader(60)
        write_endpoints(cluster, endpoints_path)
        if new:
            load_sample_data(cluster.endpoints())
            click.echo("loaded sample data: demo/users/{1,2,3}, demo/config/greeting, demo/counter")
        print_banner(cluster, endpoints_path, leader)
        if sys.stdin.isatty():
            from .demo_prompt import Prompt

            Prompt(cluster, lambda: write_endpoints(cluster, endpoints_path)).run()
        else:
            _wait_for_signal()
    except _Stop:
        pass
    except (ClusterError, TandemError) as e:
        failure = e
    finally:
        _shutdown(cluster, endpoints_path, previous)
    if failure is not None:
        raise click.ClickException(str(failure))


def _say(text: str) -> None:
    try:
        click.echo(text)
    except OSError:
        pass  # the terminal is gone (SIGHUP): stopping the nodes matters more


def _shutdown(cluster: LocalCluster, endpoints_path: Path, previous: dict) -> None:
    for sig in previous:
        signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the graceful stop short
    try:
        _say("stopping all nodes...")
        cluster.stop_all()
        if endpoints_path.exists():
            write_endpoints(cluster, endpoints_path)
        _say("stopped")
    finally:
        cluster.kill_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
