"""OpenTelemetry traces: one client request's trace crosses the leader and both followers, whether the caller's
traceparent came over the native protocol or as an HTTP header. Each in-process server exports to its own
in-memory exporter."""

from __future__ import annotations

import asyncio

import aiohttp
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from inproc_cluster import running_cluster, settled
from tandemdb.kv import Put, PutResult
from tandemdb.server.peer_transport import split_host_port
from tandemdb.wire.client_api import CLIENT_MAGIC, CLIENT_VERSION, ClientHello, Request, decode_response, encode
from tandemdb.wire.frames import FrameDecoder, encode_frame

LEADER_STEPS = {"tandem.put", "tandem.propose", "tandem.fsync", "tandem.replicate", "tandem.commit", "tandem.apply"}
FOLLOWER_STEPS = {"tandem.append", "tandem.fsync", "tandem.commit", "tandem.apply"}


def _caller_span():
    """A span of the calling application, and its traceparent."""
    span = TracerProvider().get_tracer("test-app").start_span("checkout")
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier, set_span_in_context(span))
    return span.get_span_context(), carrier["traceparent"]


async def _native_put(address: str, traceparent: str):
    host, port = split_host_port(address)
    reader, writer = await asyncio.open_connection(host, port)
    decoder = FrameDecoder()
    writer.write(encode_frame(encode(ClientHello(CLIENT_MAGIC, CLIENT_VERSION))))
    writer.write(encode_frame(encode(Request(1, Put(b"traced", b"v"), traceparent=traceparent))))
    frames: list[bytes] = []
    while len(frames) < 2:  # the hello, then the response
        frames += decoder.feed(await asyncio.wait_for(reader.read(65536), 10))
    writer.close()
    return decode_response(frames[1]).reply


async def _http_put(url: str, traceparent: str) -> int:
    body, headers = {"key": "traced", "value": "v"}, {"traceparent": traceparent}
    async with aiohttp.ClientSession() as session, session.post(f"{url}/v1/kv/put", json=body, headers=headers) as resp:
        return resp.status


def _spans_of(exporters: dict[int, InMemorySpanExporter], trace_id: int) -> dict[int, list]:
    return {i: [s for s in e.get_finished_spans() if s.context.trace_id == trace_id] for i, e in exporters.items()}


async def _traced_put(tmp_path, send) -> tuple[int, object, dict[int, list]]:
    exporters: dict[int, InMemorySpanExporter] = {}

    def prepare(server) -> None:
        exporters[server.cfg.node.id] = exporter = InMemorySpanExporter()
        server.obs.enable_tracing(SimpleSpanProcessor(exporter))

    async with running_cluster(tmp_path, prepare=prepare) as servers:
        leader = await settled(servers)  # an ack lost to a link not yet up would leave a replicate span out
        caller, traceparent = _caller_span()
        await send(leader, traceparent)
        for _ in range(500):  # until every node applied it and the leader heard every follower's ack
            spans = _spans_of(exporters, caller.trace_id)
            acks = [s for s in spans[leader.cfg.node.id] if s.name == "tandem.replicate"]
            if len(acks) == len(servers) - 1 and all("tandem.apply" in {s.name for s in spans[i]} for i in servers):
                break
            await asyncio.sleep(0.02)
        return leader.cfg.node.id, caller, spans


def _check_trace(leader: int, caller, spans: dict[int, list]) -> None:
    followers = sorted(set(spans) - {leader})
    names = {i: {s.name for s in spans[i]} for i in spans}
    assert LEADER_STEPS <= names[leader], names[leader]
    for f in followers:
        assert FOLLOWER_STEPS <= names[f], (f, names[f])
    (root,) = [s for s in spans[leader] if s.name == "tandem.put"]
    assert root.parent.span_id == caller.span_id  # the request span continues the caller's trace
    assert root.attributes["tandem.result"] == "ok"
    replicated = sorted(s.attributes["tandem.peer"] for s in spans[leader] if s.name == "tandem.replicate")
    assert replicated == followers  # one replicate span per follower
    for i, node_spans in spans.items():  # every step hangs off the request span, whichever node reported it
        assert all(s.attributes["tandem.node"] == i for s in node_spans)
        assert all(s.parent.span_id == root.context.span_id for s in node_spans if s is not root)
        assert {s.resource.attributes["service.instance.id"] for s in node_spans} == {str(i)}


def test_a_native_request_trace_spans_the_leader_and_its_followers(tmp_path) -> None:
    async def send(leader, traceparent: str) -> None:
        assert isinstance(await _native_put(leader.cfg.listen_client, traceparent), PutResult)

    _check_trace(*asyncio.run(_traced_put(tmp_path, send)))


def test_an_http_request_trace_spans_the_leader_and_its_followers(tmp_path) -> None:
    async def send(leader, traceparent: str) -> None:
        assert await _http_put(f"http://{leader.cfg.listen_http}", traceparent) == 200

    _check_trace(*asyncio.run(_traced_put(tmp_path, send)))
