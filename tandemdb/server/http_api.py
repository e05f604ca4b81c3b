"""The HTTP/JSON API: the operations of the native client protocol as JSON over HTTP, served with aiohttp.

``make_app(gateway)`` builds the application; the server runs it on its own port. Its routes are those of the
registry of operations (``tandemdb.wire.ops``): a POST route decodes its JSON body into the operation, a GET
route sends the operation with no argument, a STREAM answers one JSON line per batch of events. Routes, bodies,
results and status codes are documented in ``openapi.json`` next to this file (``tests/wire`` checks that it
lists exactly the routes served) and in ``docs/http-api.md``. Every error answer is a JSON object
``{"error": kind, "message": text}``, whatever went wrong.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import msgspec
from aiohttp import web

from ..kv.results import ErrorCode, ErrorResult
from ..wire.client_api import (
    Error,
    ErrorKind,
    MemberList,
    MemberListResult,
    Op,
    Reply,
    SnapshotResult,
    WatchCreate,
    WatchEvents,
)
from ..wire.http_bodies import JsonBody
from ..wire.ops import OPS, OpKind, OpRegistry, OpSpec
from . import http_json as j

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 << 20
OPENAPI_PATH = Path(__file__).with_name("openapi.json")
_DISCONNECT_POLL_S = 1.0  # how soon an idle watch notices that its client went away

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_KIND_STATUS = {
    ErrorKind.NO_LEADER: 503,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.TIMEOUT: 504,
    ErrorKind.BAD_REQUEST: 400,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.STALE_SEQ: 409,
    ErrorKind.STORAGE: 500,
    ErrorKind.INTERNAL: 500,
}
_CODE_STATUS = {  # other codes: 400
    ErrorCode.KEY_NOT_FOUND: 404,
    ErrorCode.LEASE_NOT_FOUND: 404,
    ErrorCode.COMPACTED: 410,
    ErrorCode.LEASE_EXISTS: 409,
}


class Gateway(Protocol):
    """What the server gives the HTTP API: the node's client operations."""

    async def call(self, op: Op, *, serializable: bool = False, group: int = 0, timeout_ms: int = 0) -> Reply:
        """Run one operation; protocol-level failures come back as ``Error`` or ``ErrorResult``, not raised."""

    def watch(self, op: WatchCreate, *, group: int = 0) -> AsyncGenerator[WatchEvents, None]:
        """Stream a watch; it ends after an item with ``canceled``, and ``aclose()`` cancels it."""


def make_app(
    gateway: Gateway, *, node_info: Callable[[], dict] | None = None, ops: OpRegistry = OPS
) -> web.Application:
    """The API of ``ops`` (the registry of operations; another one only in tests) over ``gateway``."""
    api = _Api(gateway, node_info, OPENAPI_PATH.read_bytes())
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_json_errors])
    app.on_shutdown.append(api.end_watches)
    add = app.router.add_route
    add("GET", "/", api.index)
    add("GET", "/openapi.json", api.openapi)
    for spec in ops.http_routes():
        add(spec.http_method, spec.http_path, api.route(spec))
    return app


class _Api:
    def __init__(self, gateway: Gateway, node_info: Callable[[], dict] | None, openapi: bytes) -> None:
        self.gateway = gateway
        self.node_info = node_info
        self.openapi_json = openapi
        self.watching: set[asyncio.Task] = set()  # the handlers of the open watch streams

    async def index(self, request: web.Request) -> web.Response:
        index: dict[str, Any] = {"name": "tandem", "openapi": "/openapi.json", "api": "/v1"}
        if self.node_info is not None:
            index["node"] = self.node_info()
        return _json(200, index)

    async def openapi(self, request: web.Request) -> web.Response:
        return web.Response(body=self.openapi_json, content_type="application/json")

    def route(self, spec: OpSpec) -> Handler:
        """The handler of ``spec``'s route: a stream, an operation built from a JSON body, or one without."""
        if spec.kind is OpKind.STREAM:
            if spec.op_type is not WatchCreate or spec.http_body is None:
                raise ValueError(f"the HTTP API streams watches only, not {spec.op_type.__name__}")
            return functools.partial(self.watch, spec.http_body)
        if spec.http_body is not None:
            return self.operation(spec.http_body)
        return self.fixed_operation(spec.op_type)

    def operation(self, body_type: type[JsonBody]) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            options = j.call_options(dict(request.query))
            parsed = j.parse(body_type, await request.read())
            reply = await self.gateway.call(parsed.op, serializable=parsed.serializable, **options)
            return await self._answer(request, reply, options["group"], parsed.encoding)

        return handle

    def fixed_operation(self, op_type: type[Op]) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            options = j.call_options(dict(request.query))
            return await self._answer(request, await self.gateway.call(op_type(), **options), options["group"])

        return handle

    async def watch(self, body_type: type[JsonBody], request: web.Request) -> web.StreamResponse:
        """One JSON object per line, one line per ``WatchEvents``, until the watch ends or the client leaves."""
        group = j.call_options(dict(request.query))["group"]
        parsed = j.parse(body_type, await request.read())
        assert isinstance(parsed.op, WatchCreate)  # what the body of a watch builds
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        events = self.gateway.watch(parsed.op, group=group)
        task = asyncio.current_task()
        assert task is not None  # aiohttp runs each handler in a task
        self.watching.add(task)
        guard = asyncio.create_task(_cancel_on_disconnect(request, task))
        try:
            async for item in events:
                await response.write(msgspec.json.encode(j.render(item, parsed.encoding)) + b"\n")
        except ConnectionResetError:
            pass  # the client left
        except Exception:  # the status line is sent: all that is left to do is to end the stream
            log.exception("HTTP watch failed")
        finally:
            guard.cancel()
            self.watching.discard(task)
            await events.aclose()
        return response

    async def end_watches(self, app: web.Application) -> None:
        """On shutdown: aiohttp would otherwise wait for the streams to end, up to its shutdown timeout."""
        for task in self.watching:
            task.cancel()

    async def _answer(self, request: web.Request, reply: Reply, group: int, encoding: str = j.UTF8) -> web.Response:
        if not (isinstance(reply, Error) and reply.kind is ErrorKind.NOT_LEADER):
            return _response(reply, encoding)
        body = {
            "error": reply.kind.value,
            "message": reply.message,
            "leader": reply.leader,
            "leader_endpoint": reply.leader_endpoint,
        }
        url = await self._http_url(reply.leader, group) if reply.leader else ""
        return _json(421, body, {"Location": url.rstrip("/") + request.path_qs} if url else None)

    async def _http_url(self, member_id: int, group: int) -> str:
        """A member's HTTP URL (``Error.leader_endpoint`` is its native client address), "" if not known."""
        reply = await self.gateway.call(MemberList(), serializable=True, group=group)
        members = reply.members if isinstance(reply, MemberListResult) else []
        return next((s.member.http for s in members if s.member.id == member_id), "")


async def _cancel_on_disconnect(request: web.Request, task: asyncio.Task) -> None:
    # aiohttp cancels handlers on disconnect only if the server enables handler_cancellation.
    while request.transport is not None and not request.transport.is_closing():
        await asyncio.sleep(_DISCONNECT_POLL_S)
    task.cancel()


def _response(reply: Reply, encoding: str) -> web.Response:
    if isinstance(reply, SnapshotResult):  # a backup: its bytes as a file
        headers = {
            "X-Tandem-Index": str(reply.index),
            "X-Tandem-Revision": str(reply.revision),
            "Content-Disposition": f'attachment; filename="tandem-{reply.index}.snapshot"',
        }
        return web.Response(body=reply.data, content_type="application/octet-stream", headers=headers)
    if isinstance(reply, ErrorResult):
        body = {"error": reply.code.value, "message": reply.message, "revision": reply.revision}
        if reply.code is ErrorCode.COMPACTED:
            body["compact_revision"] = reply.compact_revision
        return _json(_CODE_STATUS.get(reply.code, 400), body)
    if isinstance(reply, Error):
        retry = reply.kind in (ErrorKind.NO_LEADER, ErrorKind.UNAVAILABLE)
        body = {"error": reply.kind.value, "message": reply.message}
        return _json(_KIND_STATUS.get(reply.kind, 500), body, {"Retry-After": "1"} if retry else None)
    return _json(200, j.render(reply, encoding))


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (msgspec.ValidationError, j.BadRequest) as e:
        return _json(400, {"error": "bad_request", "message": str(e)})
    except msgspec.DecodeError as e:
        return _json(400, {"error": "bad_request", "message": f"malformed JSON: {e}"})
    except web.HTTPException as e:
        if e.status < 400:
            raise
        headers = {"Allow": e.headers["Allow"]} if "Allow" in e.headers else {}
        message = e.text if e.status == 413 else f"{e.reason}: {request.method} {request.path}"
        return _json(e.status, {"error": e.reason.lower().replace(" ", "_"), "message": message}, headers)
    except Exception:
        log.exception("HTTP %s %s failed", request.method, request.path)
        return _json(500, {"error": "internal", "message": "internal error (see the node's log)"})


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(body), content_type="application/json", headers=headers)
