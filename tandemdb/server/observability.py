"""What the server shell measures and shows about its node: Prometheus metrics, traces, structured event logs,
the time series and events of the web console, and the health endpoints.

The server calls in at a few points: ``request`` when a client request arrives, ``turn`` with each ``Output``,
``applying`` around ``Node.persisted``, ``traces`` after ``Node.receive``, and ``start``/``close``. Routes:

- ``GET /metrics``: Prometheus text format (``metrics.py``).
- ``GET /livez``: 200 while the process serves (its log still writable).
- ``GET /readyz``: 200 when every group has a leader and this node has caught up with it, proven by a
  linearizable read through the leader (ReadIndex); 503 with the reason otherwise.
- the web console (``console.py``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler

from ..kv import Range
from ..node.config import DATA_GROUP
from ..node.events import NodeEvent
from ..node.node import Output
from ..wire.client_api import Error, Request
from . import console
from .metrics import CONTENT_TYPE, NodeMetrics, result_label
from .peer_probe import PeerProbe
from .series import Series
from .tracing import Tracing, http_traceparent

if TYPE_CHECKING:
    from .server import Server

_log = logging.getLogger("tandemdb.server")

MAX_EVENTS = 200
READY_KEY = b"\x00tandem/readyz"  # a key no client writes; reading it proves the node caught up
READY_TIMEOUT_MS = 2000


class Observability:
    def __init__(self, server: Server) -> None:
        cfg = server.cfg
        self.server = server
        self.node = server.node
        self.metrics = NodeMetrics(server.node, server.peers, cfg.data_dir)
        self.series = Series()
        self.events: deque[dict] = deque(maxlen=MAX_EVENTS)
        self.tracing = Tracing(cfg.node.id)
        if cfg.tracing != "off":
            self.enable_tracing(cfg.tracing, cfg.trace_sample_ratio)
        self.probe = PeerProbe(server.peers, self.metrics.peer_rtt)
        server.committer.on_sync = self._synced
        self.started = time.time()
        self._inflight: dict[tuple[int, int], tuple[float, str, Any]] = {}  # (conn, request id) -> (start, op, span)
        self._ops: dict[type, str] = {}
        self._timer: Any = None

    def enable_tracing(self, exporter: str | Any, sample_ratio: float = 1.0) -> None:
        self.tracing.enable(exporter, sample_ratio)
        self.node.tracing = True

    def start(self, app: web.Application) -> None:
        app.middlewares.append(_traceparent_header)
        add = app.router.add_get
        add("/metrics", self._metrics)
        add("/livez", self._livez)
        add("/readyz", self._readyz)
        console.mount(app, self)
        self._note(NodeEvent("node", 0, 0, f"node {self.node.cfg.id} started"))
        self._timer = self.server.loop.call_later(1.0, self._every_second)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.tracing.shutdown()

    # -- hooks ------------------------------------------------------------------------------------------------------
    def request(self, conn: int, req: Request) -> None:
        """A client request arrived (before the node sees it)."""
        op = self._ops.get(type(req.op))
        if op is None:
            tag = type(req.op).__struct_config__.tag
            assert isinstance(tag, str)  # every operation struct is tagged with its name
            op = self._ops[type(req.op)] = tag
        span = self.tracing.start_request(req, op) if self.tracing.on else None
        self._inflight[(conn, req.id)] = (time.perf_counter(), op, span)

    def turn(self, out: Output) -> None:
        """The node's output of a turn: log its events, time the answered requests, time the trace points."""
        for event in out.log:
            _log.info("%s", event.message, extra={"event": event.kind, "group": event.group, "term": event.term})
            self._note(event)
        if out.replies and self._inflight:
            now = time.perf_counter()
            for conn, resp in out.replies:
                started = self._inflight.pop((conn, resp.id), None)
                if started is None:
                    continue  # a watch's later events, or a request from before a restart of tracking
                t0, op, span = started
                result = result_label(resp.reply)
                self.metrics.request_done(op, result, now - t0)
                self.series.request(now - t0)
                if span is not None:
                    self.tracing.end_request(span, result)
        if out.traces:
            self.tracing.points(out.traces)

    def traces(self) -> None:
        """Take the trace points of the last event at once, so that their times are right."""
        if self.node.tracing:
            self.tracing.points(self.node.take_traces())

    @contextlib.contextmanager
    def applying(self) -> Iterator[None]:
        """Time ``Node.persisted``: applying what a sync made durable, and any snapshot that followed."""
        saved = self.node.snapshots_saved
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        (self.metrics.snapshot if self.node.snapshots_saved != saved else self.metrics.apply).observe(seconds)
        self.traces()

    # -- internals ----------------------------------------------------------------------------------------------------
    def _synced(self, seconds: float, records: int, nbytes: int) -> None:
        self.metrics.synced(seconds, records, nbytes)
        self.series.fsync(seconds)

    def _note(self, event: NodeEvent) -> None:
        self.events.append({"t": round(time.time(), 3), "node": self.node.cfg.id, "kind": event.kind,
                            "group": event.group, "term": event.term, "message": event.message})

    def _every_second(self) -> None:
        self._timer = self.server.loop.call_later(1.0, self._every_second)
        self.probe.ping(self.member_ids())
        info = self.node.groups[DATA_GROUP].info()
        self.series.sample(term=info.term, leader=info.leader, commit=info.commit, applied=info.applied)

    def member_ids(self) -> set[int]:
        return self.node.replica_nodes() | {self.node.cfg.id}

    # -- routes --------------------------------------------------------------------------------------------------------
    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    async def _livez(self, request: web.Request) -> web.Response:
        failed = self.node.failed
        if failed is not None:
            return web.json_response({"live": False, "reason": f"the log could not be written: {failed}"}, status=503)
        return web.json_response({"live": True})

    async def _readyz(self, request: web.Request) -> web.Response:
        reason = await self._not_ready()
        if reason:
            return web.json_response({"ready": False, "reason": reason}, status=503)
        return web.json_response({"ready": True})

    async def _not_ready(self) -> str:
        node = self.node
        if node.failed is not None or node.stopping:
            return f"node {node.cfg.id} is stopping"
        for group, g in sorted(node.groups.items()):
            if not g.leader:
                return f"group {group} has no leader"
        for group in sorted(node.groups):
            read = Range(READY_KEY, count_only=True)
            reply = await self.server.gateway.call(read, group=group, timeout_ms=READY_TIMEOUT_MS)
            if isinstance(reply, Error):
                return f"group {group}: not caught up with its leader ({reply.message})"
        return ""


@web.middleware
async def _traceparent_header(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hand the request's W3C ``traceparent`` header to the tracing of the operations this handler runs."""
    header = request.headers.get("traceparent", "")
    if not header:
        return await handler(request)
    token = http_traceparent.set(header)
    try:
        return await handler(request)
    finally:
        http_traceparent.reset(token)
