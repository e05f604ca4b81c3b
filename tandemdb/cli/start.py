"""``tandem start``: run one node in the foreground until SIGTERM."""

from __future__ import annotations

import json
import sys
import tomllib

import click

from ..node import NodeConfig
from ..node.bugs import BUGS
from ..server.config import ServerConfig
from ..storage.errors import StorageError
from ..wire.client_api import Member
from .durations import Duration


def parse_cluster(spec: str) -> dict[int, str]:
    """``1=host:port,2=host:port`` -> {1: "host:port", ...}."""
    out: dict[int, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        ident, sep, address = part.partition("=")
        if not sep or not ident.isdigit() or int(ident) <= 0 or ":" not in address:
            raise click.BadParameter(
                f"expected ID=HOST:PORT with a positive id, got {part!r}", param_hint="--initial-cluster"
            )
        out[int(ident)] = address
    return out


def _load_config_file(path: str) -> dict:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        data = tomllib.loads(raw.decode()) if path.endswith(".toml") else json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise click.BadParameter(f"{path}: {e}", param_hint="--config") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path}: expected a table of settings", param_hint="--config")
    return {k.replace("-", "_"): v for k, v in data.items()}


def _apply_config_file(ctx: click.Context, param: click.Parameter, path: str | None) -> str | None:
    """Settings from the file become defaults; flags on the command line still win."""
    if path:
        settings = _load_config_file(path)
        known = {p.name for p in ctx.command.params}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise click.BadParameter(f"{path}: unknown settings {', '.join(unknown)}", param_hint="--config")
        ctx.default_map = {**(ctx.default_map or {}), **settings}
    return path


@click.command()
@click.option("--config", type=click.Path(exists=True, dir_okay=False), callback=_apply_config_file, is_eager=True,
              expose_value=False,
              help="A TOML (.toml) or JSON file with any of these settings (dashes or underscores).")
@click.option("--id", "node_id", type=click.IntRange(min=1), required=True, help="This node's id (positive, unique).")
@click.option("--data-dir", required=True, type=click.Path(file_okay=False),
              help="Where the node keeps its log and snapshots.")
@click.option("--listen-client", default="127.0.0.1:2379", show_default=True,
              help="host:port of the native client protocol.")
@click.option("--listen-peer", default="127.0.0.1:2380", show_default=True, help="host:port for the other nodes.")
@click.option("--listen-http", default="127.0.0.1:8080", show_default=True, help="host:port of the HTTP/JSON API.")
@click.option("--initial-cluster", default="",
              help="ID=HOST:PORT,... peer addresses of the founding members (this node included).")
@click.option("--join", is_flag=True,
              help="Join an existing cluster (after `tandem member add`) instead of founding one.")
@click.option("--cluster-id", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--region", default="local", show_default=True,
              help="Region label, shown by `member list` and used by placement.")
@click.option("--zone", default="local-a", show_default=True, help="Zone label.")
@click.option("--tick-ms", type=click.IntRange(min=1), default=100, show_default=True, help="Raft tick period.")
@click.option("--election-ticks", type=click.IntRange(min=2), default=10, show_default=True)
@click.option("--heartbeat-ticks", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--snapshot-every", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Applied entries between snapshots.")
@click.option("--session-ttl", type=Duration(), default="10m", show_default=True,
              help="How long the cluster keeps a client's retry record after its last write (up to 1.5 times that); "
              "longer than any client's timeout.")
@click.option("--quiesce-ticks", type=click.IntRange(min=0), default=3, show_default=True,
              help="Ticks a group must be idle and in sync before it sleeps (no ticks, no heartbeats); 0: never.")
@click.option("--bug", "bugs", multiple=True, hidden=True, type=click.Choice(sorted(BUGS)),
              help="Debug only: turn on a known bug (see `tandem chaos --list-bugs`).")
@click.option("--debug-faults", default="", hidden=True, help="Debug only: the chaos harness's fault file.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
              show_default=True)
@click.option("--log-format", type=click.Choice(["json", "text"]), default="json", show_default=True,
              help="JSON lines carry the node id, and the group and term of node events.")
@click.option("--tracing", type=click.Choice(["off", "console", "otlp"]), default="off", show_default=True,
              help="Export OpenTelemetry spans of client requests (otlp: set OTEL_EXPORTER_OTLP_ENDPOINT).")
@click.option("--trace-sample-ratio", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Share of requests traced when the caller's traceparent did not decide.")
def start(node_id: int, data_dir: str, listen_client: str, listen_peer: str, listen_http: str, initial_cluster: str,
          join: bool, cluster_id: int, region: str, zone: str, tick_ms: int, election_ticks: int,
          heartbeat_ticks: int, snapshot_every: int, session_ttl: float, quiesce_ticks: int, bugs: tuple[str, ...],
          debug_faults: str, log_level: str, log_format: str, tracing: str, trace_sample_ratio: float) -> None:
    """Run one Tandem node until SIGTERM or Ctrl-C (a leader hands over leadership before it exits)."""
    from ..server.server import CoreFailure, run

    cluster = parse_cluster(initial_cluster) if initial_cluster else {node_id: listen_peer}
    if not join and node_id not in cluster:
        raise click.BadParameter(f"node {node_id} is not in the initial cluster", param_hint="--initial-cluster")
    if session_ttl < 1:
        raise click.BadParameter("must be at least 1s", param_hint="--session-ttl")
    if election_ticks <= heartbeat_ticks:
        raise click.BadParameter("must be larger than --heartbeat-ticks", param_hint="--election-ticks")
    member = Member(node_id, listen_peer, listen_client, f"http://{listen_http}", region, zone)
    node = NodeConfig(member=member, cluster_id=cluster_id, tick_ms=tick_ms, election_ticks=election_ticks,
                      heartbeat_ticks=heartbeat_ticks, snapshot_every=snapshot_every,
                      keep_entries=min(5_000, snapshot_every), session_ttl_s=round(session_ttl),
                      quiesce_ticks=quiesce_ticks, bugs=frozenset(bugs))
    cfg = ServerConfig(node=node, data_dir=data_dir, listen_peer=listen_peer, listen_client=listen_client,
                       listen_http=listen_http, initial_cluster=cluster, join=join, log_level=log_level,
                       debug_faults=debug_faults, log_format=log_format, tracing=tracing,
                       trace_sample_ratio=trace_sample_ratio)
    try:
        run(cfg)
    except StorageError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
    except CoreFailure as e:
        click.echo(f"Error: node {node_id} stopped: {e}", err=True)
        sys.exit(3)
    except OSError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
