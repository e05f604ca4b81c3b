"""How a server process is told to run: its node, its addresses, its data directory and its peers."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..node.config import NodeConfig
from ..wire.client_api import Member


@dataclass
class ServerConfig:
    node: NodeConfig
    data_dir: str
    listen_peer: str  # host:port
    listen_client: str
    listen_http: str
    initial_cluster: dict[int, str] = field(default_factory=dict)  # node id -> peer host:port
    join: bool = False  # join an existing cluster (already added with `member add`) instead of founding one
    log_level: str = "info"
    log_format: str = "json"  # or "text" (``server/logs.py``)
    tracing: str = "off"  # OpenTelemetry span exporter: off, console or otlp (``server/tracing.py``)
    trace_sample_ratio: float = 1.0  # share of requests traced when the caller did not decide
    stop_timeout_s: float = 5.0  # graceful stop: at most this long to hand over leadership and finish requests
    debug_faults: str = ""  # debug only: the chaos harness's fault file (``server.debug_faults``)

    @property
    def member(self) -> Member:
        return self.node.member

    def initial_members(self) -> list[Member] | None:
        """The founding voters of a new cluster; each publishes its other addresses and labels once it runs."""
        if self.join:
            return None
        return [Member(i, peer) for i, peer in sorted(self.initial_cluster.items())]
