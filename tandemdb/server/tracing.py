"""OpenTelemetry traces of client requests, off unless ``--tracing console|otlp`` (or a test) turns them on.

A request gets a server span from arrival to reply, child of the caller's span when the request carried a W3C
traceparent (the native ``Request.traceparent``, or the HTTP ``traceparent`` header). The server span's own
traceparent then goes into the node core, which follows the request's log entry through the cluster and notes
its steps as trace points (``tandemdb/node/tracing.py``), on the leader and, through the appends, on every
follower. This module stamps the points with the time it sees them and turns pairs of them into child spans of
the request span: ``propose``, ``fsync``, ``replicate`` (per follower), ``append`` (on a follower: received
until durable), ``commit`` and ``apply``.

The OpenTelemetry SDK is imported only when tracing is on. Each server has its own tracer provider, so that
several servers can share a process (the tests do).
"""

from __future__ import annotations

import contextvars
import time
from typing import TYPE_CHECKING, Any

from ..node.tracing import TracePoint
from ..wire.client_api import Request

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor

EXPORTERS = ("off", "console", "otlp")
MAX_OPEN = 10_000  # traced entries followed at once; the oldest are forgotten beyond that

# The HTTP API sets this around a handler, from the request's ``traceparent`` header.
http_traceparent: contextvars.ContextVar[str] = contextvars.ContextVar("http_traceparent", default="")


class _Entry:
    """What this node saw of one traced request's entry: the times (ns) of its steps so far."""

    __slots__ = ("applied", "arrived", "committed", "parent", "persist", "proposed", "received", "sent")

    def __init__(self, parent: Any, arrived: int = 0) -> None:
        self.parent = parent
        self.arrived = arrived
        self.proposed = self.persist = self.received = self.committed = 0
        self.sent: dict[int, int] = {}  # follower -> when the append carrying the entry left
        self.applied = False


class Tracing:
    def __init__(self, node_id: int) -> None:
        self.node_id = node_id
        self.on = False
        self.provider: Any = None
        self.tracer: Any = None
        self._propagator: Any = None
        self._open: dict[str, _Entry] = {}

    def enable(self, exporter: str | SpanProcessor, sample_ratio: float = 1.0) -> None:
        """Turn tracing on with an exporter: "console", "otlp" (configured by the standard OTEL_EXPORTER_OTLP_*
        variables), or a span processor object (tests pass one with an in-memory exporter)."""
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        processor: SpanProcessor
        if exporter == "console":
            processor = BatchSpanProcessor(ConsoleSpanExporter())
        elif exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            processor = BatchSpanProcessor(OTLPSpanExporter())
        elif isinstance(exporter, str):
            raise ValueError(f"unknown trace exporter {exporter!r} (console, otlp, or a span processor)")
        else:
            processor = exporter
        resource = Resource.create({"service.name": "tandem", "service.instance.id": str(self.node_id)})
        self.provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("tandemdb")
        self._propagator = TraceContextTextMapPropagator()
        self.on = True

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()
            self.on = False

    # -- request spans ------------------------------------------------------------------------------------------
    def start_request(self, req: Request, op: str) -> Any:
        """Open the request's server span; give the core its traceparent if sampled (else none)."""
        from opentelemetry.trace import SpanKind, set_span_in_context

        now = time.time_ns()
        caller = req.traceparent or http_traceparent.get()
        parent = self._propagator.extract({"traceparent": caller}) if caller else None
        attributes = {"tandem.node": self.node_id, "tandem.op": op}
        span = self.tracer.start_span(f"tandem.{op}", parent, SpanKind.SERVER, attributes, start_time=now)
        req.traceparent = ""
        if span.get_span_context().trace_flags.sampled:
            carrier: dict[str, str] = {}
            self._propagator.inject(carrier, set_span_in_context(span))
            req.traceparent = carrier["traceparent"]
            self._remember(req.traceparent, _Entry(set_span_in_context(span), now))
        return span

    def end_request(self, span: Any, result: str) -> None:
        span.set_attribute("tandem.result", result)
        span.end(time.time_ns())

    # -- spans from the core's trace points -----------------------------------------------------------------------
    def points(self, points: list[TracePoint]) -> None:
        now = time.time_ns()
        for p in points:
            e = self._open.get(p.traceparent)
            if e is None:
                e = self._remember(p.traceparent, _Entry(self._propagator.extract({"traceparent": p.traceparent})))
            self._step(e, p, now)
            if e.applied and not e.sent:
                del self._open[p.traceparent]

    def _step(self, e: _Entry, p: TracePoint, now: int) -> None:
        step = p.step
        if step == "proposed":
            e.proposed = now
            if e.arrived:
                self._span("propose", e, p, e.arrived, now)
        elif step == "persist":
            e.persist = now
        elif step == "durable":
            if e.persist:
                self._span("fsync", e, p, e.persist, now)
            if e.received:
                self._span("append", e, p, e.received, now, p.peer)
        elif step == "sent":
            e.sent.setdefault(p.peer, now)
        elif step == "acked":
            sent = e.sent.pop(p.peer, 0)
            if sent:
                self._span("replicate", e, p, sent, now, p.peer)
        elif step == "received":
            e.received = e.received or now
        elif step == "committed":
            e.committed = now
            start = e.proposed or e.received
            if start:
                self._span("commit", e, p, start, now)
        elif step == "applied":
            self._span("apply", e, p, e.committed or now, now)
            e.applied = True

    def _span(self, name: str, e: _Entry, p: TracePoint, start: int, end: int, peer: int = 0) -> None:
        attributes = {"tandem.node": self.node_id, "tandem.group": p.group, "tandem.index": p.index}
        if peer:
            attributes["tandem.peer"] = peer
        self.tracer.start_span(f"tandem.{name}", e.parent, attributes=attributes, start_time=start).end(end)

    def _remember(self, traceparent: str, entry: _Entry) -> _Entry:
        if len(self._open) >= MAX_OPEN:
            del self._open[next(iter(self._open))]
        self._open[traceparent] = entry
        return entry
