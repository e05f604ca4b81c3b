"""The HTTP/JSON API over an in-memory gateway: every route, the status codes, the encoding rule, watch streams,
and the OpenAPI document (valid, listing exactly the routes served, matching what the routes answer)."""

from __future__ import annotations

import asyncio
import base64
import json

import msgspec
import pytest

from fake_gateway import FakeGateway, Served
from tandemdb.kv import ErrorCode, ErrorResult, KVStore, Put, Range
from tandemdb.server import http_api
from tandemdb.server.http_api import MAX_BODY_BYTES, OPENAPI_PATH, make_app
from tandemdb.wire.client_api import Error, ErrorKind, MemberAdd, Status
from tandemdb.wire.ops import OPS

OPENAPI = json.loads(OPENAPI_PATH.read_text())


@pytest.fixture
def http(monkeypatch):
    monkeypatch.setattr(http_api, "_DISCONNECT_POLL_S", 0.02)  # notice departed watch clients quickly
    served = Served(node_info=lambda: {"id": 1})
    yield served
    served.close()


def put(http, key, value, **fields):
    answer = http.post("/v1/kv/put", {"key": key, "value": value, **fields})
    assert answer.status == 200, answer.body
    return answer.json


def keys(answer):
    return [kv["key"] for kv in answer.json["kvs"]]


# -- KV ------------------------------------------------------------------------------------------------------------


def test_put_then_range(http):
    assert put(http, "a", "1") == {"revision": 1, "prev_kv": None}
    assert put(http, "a", "2", prev_kv=True)["prev_kv"]["value"] == "1"
    answer = http.post("/v1/kv/range", {"key": "a"})
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/json"
    kv = {"key": "a", "value": "2", "create_revision": 1, "mod_revision": 2, "version": 2, "lease": 0}
    assert answer.json == {"revision": 2, "kvs": [kv], "count": 1, "more": False}


def test_range_options(http):
    for key in ("a", "b1", "b2", "b3", "c"):
        put(http, key, "v")
    assert keys(http.post("/v1/kv/range", {"key": "b", "prefix": True})) == ["b1", "b2", "b3"]
    assert keys(http.post("/v1/kv/range", {"key": "b2", "range_end": "c"})) == ["b2", "b3"]
    assert keys(http.post("/v1/kv/range", {"key": "", "prefix": True})) == ["a", "b1", "b2", "b3", "c"]
    limited = http.post("/v1/kv/range", {"key": "b", "prefix": True, "limit": 2}).json
    assert [kv["key"] for kv in limited["kvs"]] == ["b1", "b2"] and limited["count"] == 3 and limited["more"]
    counted = http.post("/v1/kv/range", {"key": "b", "prefix": True, "count_only": True}).json
    assert counted["kvs"] == [] and counted["count"] == 3
    keys_only = http.post("/v1/kv/range", {"key": "a", "keys_only": True}).json
    assert keys_only["kvs"][0]["value"] == ""
    assert keys(http.post("/v1/kv/range", {"key": "b1", "revision": 1})) == []


def test_prefix_and_range_end_together_are_refused(http):
    answer = http.post("/v1/kv/range", {"key": "a", "prefix": True, "range_end": "b"})
    assert answer.status == 400 and answer.json["error"] == "bad_request"


def test_call_options_reach_the_gateway(http):
    http.post("/v1/kv/range", {"key": "a", "serializable": True}, params={"group": "3", "timeout_ms": "250"})
    http.get("/v1/status", params={"group": "2"})
    assert http.gateway.calls == [
        (Range(b"a"), {"serializable": True, "group": 3, "timeout_ms": 250}),
        (Status(), {"serializable": False, "group": 2, "timeout_ms": 0}),
    ]
    for params in ({"group": "x"}, {"timeout_ms": "-1"}, {"other": "1"}):
        assert http.get("/v1/status", params=params).status == 400


def test_delete_range(http):
    for key in ("a1", "a2", "b"):
        put(http, key, "v")
    answer = http.post("/v1/kv/delete_range", {"key": "a", "prefix": True, "prev_kv": True})
    assert answer.status == 200
    assert answer.json["deleted"] == 2 and [kv["key"] for kv in answer.json["prev_kvs"]] == ["a1", "a2"]
    assert keys(http.post("/v1/kv/range", {"key": "", "prefix": True})) == ["b"]


def test_txn(http):
    put(http, "a", "1")
    txn = {
        "compares": [
            {"key": "a", "target": "value", "result": "==", "value": "1"},
            {"key": "a", "target": "version", "result": ">", "value": 0},
        ],
        "success": [{"put": {"key": "b", "value": "2"}}, {"range": {"key": "a"}}],
        "failure": [{"delete_range": {"key": "a"}}],
    }
    answer = http.post("/v1/kv/txn", txn)
    assert answer.status == 200
    assert answer.json["succeeded"] and answer.json["revision"] == 2
    assert [list(r) for r in answer.json["responses"]] == [["put"], ["range"]]
    assert answer.json["responses"][1]["range"]["kvs"][0]["value"] == "1"
    txn["compares"][0]["value"] = "other"
    answer = http.post("/v1/kv/txn", txn)
    assert not answer.json["succeeded"] and answer.json["responses"][0]["delete_range"]["deleted"] == 1


@pytest.mark.parametrize(
    "txn",
    [
        {"success": [{}]},
        {"success": [{"put": {"key": "a", "value": "1"}, "range": {"key": "a"}}]},
        {"compares": [{"key": "a", "target": "size", "result": "==", "value": 1}]},
        {"compares": [{"key": "a", "target": "version", "result": "==", "value": "1"}]},  # the store refuses it
        {"success": [{"put": {"key": "a", "value": "1"}}, {"put": {"key": "a", "value": "2"}}]},
    ],
)
def test_bad_txns_are_400(http, txn):
    answer = http.post("/v1/kv/txn", txn)
    assert answer.status == 400 and set(answer.json) >= {"error", "message"}


def test_compact_and_compacted_reads(http):
    for value in "123":
        put(http, "a", value)
    assert http.post("/v1/kv/compact", {"revision": 2}).json == {"revision": 3}
    answer = http.post("/v1/kv/range", {"key": "a", "revision": 1})
    assert answer.status == 410
    assert answer.json["error"] == "compacted" and answer.json["compact_revision"] == 2
    assert http.post("/v1/kv/compact", {"revision": 9}).status == 400  # a future revision


# -- the encoding rule ---------------------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_utf8_text_round_trips(http):
    put(http, "ключ", "значение ✓")
    assert http.post("/v1/kv/range", {"key": "ключ"}).json["kvs"][0]["value"] == "значение ✓"
    assert http.gateway.store.range(Range("ключ".encode())).kvs[0].value == "значение ✓".encode()


def test_base64_requests_get_base64_answers(http):
    answer = http.post("/v1/kv/put", {"key": b64(b"\xff\x00k"), "value": b64(b"\x80"), "encoding": "base64"})
    assert answer.status == 200 and answer.json["encoding"] == "base64"
    answer = http.post("/v1/kv/range", {"key": b64(b"\xff"), "prefix": True, "encoding": "base64"})
    kv = answer.json["kvs"][0]
    assert (kv["key"], kv["value"], answer.json["encoding"]) == (b64(b"\xff\x00k"), b64(b"\x80"), "base64")


def test_bytes_that_are_not_utf8_are_answered_in_base64(http):
    http.gateway.store.apply([Put(b"k", b"\xfe\xff")])
    answer = http.post("/v1/kv/range", {"key": "k"})
    assert answer.json["encoding"] == "base64" and answer.json["kvs"][0]["key"] == b64(b"k")
    assert answer.json["kvs"][0]["value"] == b64(b"\xfe\xff")
    assert "encoding" not in http.post("/v1/kv/range", {"key": "x"}).json


@pytest.mark.parametrize("key", ["not base64!", "YQ", "YQ==\n"])
def test_invalid_base64_is_400(http, key):
    answer = http.post("/v1/kv/range", {"key": key, "encoding": "base64"})
    assert answer.status == 400 and "base64" in answer.json["message"]


def test_txn_compare_values_follow_the_encoding(http):
    http.gateway.store.apply([Put(b"k", b"\xfe")])
    txn = {
        "compares": [{"key": b64(b"k"), "target": "value", "result": "==", "value": b64(b"\xfe")}],
        "encoding": "base64",
    }
    assert http.post("/v1/kv/txn", txn).json["succeeded"]


# -- leases --------------------------------------------------------------------------------------------------------


def test_lease_lifecycle(http):
    assert http.post("/v1/lease/grant", {"ttl_s": 30, "id": 7}).json == {"revision": 0, "id": 7, "ttl_s": 30}
    assert http.post("/v1/lease/grant", {"ttl_s": 30, "id": 7}).status == 409
    picked = http.post("/v1/lease/grant", {"ttl_s": 5}).json["id"]
    assert picked > 0 and sorted(http.get("/v1/lease/list").json["ids"]) == sorted([7, picked])
    put(http, "a", "1", lease=7)
    ttl = http.post("/v1/lease/timetolive", {"id": 7, "keys": True}).json
    assert ttl == {"id": 7, "ttl_s": 30, "granted_ttl_s": 30, "keys": ["a"]}
    assert http.post("/v1/lease/keepalive", {"id": 7}).json["ttl_s"] == 30
    assert http.post("/v1/lease/revoke", {"id": 7}).json == {"revision": 2}
    assert keys(http.post("/v1/kv/range", {"key": "a"})) == []
    for path, error in [("/v1/lease/revoke", "lease_not_found"), ("/v1/lease/keepalive", "not_found")]:
        answer = http.post(path, {"id": 7})
        assert answer.status == 404 and answer.json["error"] == error
    assert http.post("/v1/kv/put", {"key": "b", "value": "1", "lease": 7}).status == 404


# -- cluster -------------------------------------------------------------------------------------------------------


def test_members(http):
    assert [m["member"]["id"] for m in http.get("/v1/members").json["members"]] == [1]
    added = http.post("/v1/members/add", {"peer": "n2:7001", "http": "http://n2:7080", "zone": "b"})
    assert added.status == 200 and added.json["member"]["id"] == 2 and added.json["member"]["zone"] == "b"
    assert isinstance(http.gateway.calls[-1][0], MemberAdd) and http.gateway.calls[-1][0].learner
    assert {"member": added.json["member"], "learner": True} in added.json["members"]
    promoted = http.post("/v1/members/promote", {"id": 2}).json
    assert {"member": added.json["member"], "learner": False} in promoted["members"]
    assert [m["member"]["id"] for m in http.post("/v1/members/remove", {"id": 2}).json["members"]] == [1]
    answer = http.post("/v1/members/remove", {"id": 2})
    assert answer.status == 404 and answer.json == {"error": "not_found", "message": "member 2 not found"}


def test_status_and_move_leader(http):
    put(http, "a", "1")
    status = http.get("/v1/status").json
    assert status["id"] == 1 and status["revision"] == 1 and status["member"]["peer"] == "n1:7001"
    assert http.post("/v1/move_leader", {"target": 1}).json == {}
    assert http.post("/v1/move_leader", {"target": 5}).status == 404


def test_snapshot(http):
    put(http, "a", "1")
    answer = http.get("/v1/snapshot")
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/octet-stream"
    assert (answer.headers["X-Tandem-Index"], answer.headers["X-Tandem-Revision"]) == ("9", "1")
    restored = KVStore()
    restored.restore(answer.body)
    assert restored.range(Range(b"a")).kvs[0].value == b"1"


def test_index_and_openapi(http):
    assert http.get("/").json == {"name": "tandem", "openapi": "/openapi.json", "api": "/v1", "node": {"id": 1}}
    answer = http.get("/openapi.json")
    assert answer.status == 200 and answer.json == OPENAPI


# -- errors --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "headers"),
    [
        (
            Error(ErrorKind.NOT_LEADER, "node 1 leads", 1, "n1:7002"),
            421,
            {"Location": "http://n1:7080/v1/kv/put?group=1"},
        ),  # the leader's HTTP URL, from the membership
        (Error(ErrorKind.NOT_LEADER, "node 5 leads", 5, "n5:7002"), 421, {}),  # not a member that it knows
        (Error(ErrorKind.NOT_LEADER, "leader unknown"), 421, {}),
        (Error(ErrorKind.NO_LEADER, "election"), 503, {"Retry-After": "1"}),
        (Error(ErrorKind.UNAVAILABLE, "stopping"), 503, {"Retry-After": "1"}),
        (Error(ErrorKind.TIMEOUT, "no answer"), 504, {}),
        (Error(ErrorKind.BAD_REQUEST, "no"), 400, {}),
        (Error(ErrorKind.NOT_FOUND, "no group 1"), 404, {}),
        (Error(ErrorKind.STALE_SEQ, "seq 4 is older"), 409, {}),
        (Error(ErrorKind.STORAGE, "disk failed"), 500, {}),
        (Error(ErrorKind.INTERNAL, "bug"), 500, {}),
    ],
)
def test_gateway_errors(http, error, status, headers):
    http.gateway.replies.append(error)
    answer = http.post("/v1/kv/put", {"key": "a", "value": "1"}, params={"group": "1"})
    assert answer.status == status
    assert {name: answer.headers.get(name) for name in headers} == headers
    assert ("Location" in answer.headers) == ("Location" in headers)
    body = {"error": error.kind.value, "message": error.message}
    if error.kind is ErrorKind.NOT_LEADER:
        body |= {"leader": error.leader, "leader_endpoint": error.leader_endpoint}
    assert answer.json == body


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (ErrorCode.KEY_EMPTY, 400),
        (ErrorCode.FUTURE_REVISION, 400),
        (ErrorCode.VALUE_TOO_LARGE, 400),
        (ErrorCode.KEY_NOT_FOUND, 404),
        (ErrorCode.LEASE_NOT_FOUND, 404),
        (ErrorCode.COMPACTED, 410),
        (ErrorCode.LEASE_EXISTS, 409),
    ],
)
def test_kv_errors(http, code, status):
    http.gateway.replies.append(ErrorResult(5, code, "refused", 3 if code is ErrorCode.COMPACTED else 0))
    answer = http.post("/v1/kv/put", {"key": "a", "value": "1"})
    assert answer.status == status
    body = {"error": code.value, "message": "refused", "revision": 5}
    assert answer.json == (body | {"compact_revision": 3} if code is ErrorCode.COMPACTED else body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "malformed JSON"),
        (b"[1]", "Expected `object`, got `array`"),
        (b"", "Object missing required field `key`"),
        ({"key": 1, "value": "1"}, "Expected `str`, got `int` - at `$.key`"),
        ({"key": "a", "value": "1", "lease": -1}, "Expected `int` >= 0 - at `$.lease`"),
        ({"key": "a", "value": "1", "lease": 1 << 64}, "at `$.lease`"),
        ({"key": "a", "value": "1", "ttl": 5}, "Object contains unknown field `ttl`"),
        ({"key": "a", "value": "1", "encoding": "hex"}, "at `$.encoding`"),
        (b'{"key": "\\ud800", "value": ""}', ""),
    ],
)
def test_malformed_requests_are_400(http, body, message):
    answer = http.post("/v1/kv/put", body)
    assert answer.status == 400
    assert answer.json["error"] == "bad_request" and message in answer.json["message"]
    assert http.gateway.calls == []


def test_too_large_bodies_are_413(http):
    answer = http.post("/v1/kv/put", {"key": "a", "value": "x" * MAX_BODY_BYTES})
    assert answer.status == 413 and answer.json["error"] == "request_entity_too_large"


def test_unknown_routes_and_wrong_methods(http):
    answer = http.get("/v1/nothing")
    assert answer.status == 404 and answer.json == {"error": "not_found", "message": "Not Found: GET /v1/nothing"}
    answer = http.get("/v1/kv/put")
    assert answer.status == 405 and answer.headers["Allow"] == "POST" and answer.json["error"] == "method_not_allowed"
    assert http.post("/v1/status").status == 405


def test_a_failing_gateway_gives_a_json_500_without_details(http, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    http.gateway.call = broken
    answer = http.get("/v1/status")
    assert answer.status == 500 and answer.json["error"] == "internal"
    assert "secret" not in answer.json["message"] and "secret detail" in caplog.text


# -- watch ---------------------------------------------------------------------------------------------------------


class Watch:
    """A watch stream read line by line (each read waits at most 10 s, so a bug cannot hang the suite)."""

    def __init__(self, http: Served, body: dict) -> None:
        self.http = http
        self.response = http.run(http.session.post("/v1/watch", json=body))

    def next(self) -> dict:
        return json.loads(self.http.run(asyncio.wait_for(self.response.content.readline(), 10)))

    def ended(self) -> bool:
        return self.http.run(asyncio.wait_for(self.response.content.read(), 10)) == b""


def wait_until(http: Served, condition) -> None:
    async def poll():
        while not condition():
            await asyncio.sleep(0.01)

    http.run(asyncio.wait_for(poll(), 10))


def test_watch_streams_events(http):
    watch = Watch(http, {"key": "a", "prefix": True, "prev_kv": True})
    assert watch.response.status == 200 and watch.response.content_type == "application/x-ndjson"
    assert watch.next() == {
        "watch_id": 1,
        "revision": 0,
        "events": [],
        "created": True,
        "canceled": False,
        "compact_revision": 0,
        "reason": "",
    }
    put(http, "a1", "1")
    put(http, "b", "1")
    put(http, "a1", "2")
    http.post("/v1/kv/delete_range", {"key": "a1"})
    lines = [watch.next() for _ in range(3)]
    assert [line["revision"] for line in lines] == [1, 3, 4]
    assert [e["type"] for line in lines for e in line["events"]] == ["put", "put", "delete"]
    assert lines[1]["events"][0]["prev_kv"]["value"] == "1" and lines[2]["events"][0]["kv"]["version"] == 0


def test_watch_from_a_revision_and_in_base64(http):
    http.gateway.store.apply([Put(b"k", b"\xff"), Put(b"k", b"2")])
    watch = Watch(http, {"key": b64(b"k"), "start_revision": 1, "encoding": "base64"})
    assert watch.next()["created"]
    line = watch.next()
    assert line["encoding"] == "base64"
    assert [e["kv"]["value"] for e in line["events"]] == [b64(b"\xff"), b64(b"2")]


def test_watch_of_a_compacted_revision_ends_with_canceled(http):
    for value in "123":
        put(http, "a", value)
    http.post("/v1/kv/compact", {"revision": 2})
    watch = Watch(http, {"key": "a", "start_revision": 1})
    line = watch.next()
    assert line["created"] and line["canceled"] and line["compact_revision"] == 2
    assert watch.ended()
    assert http.gateway.open_watches == 0


def test_watch_closes_the_gateway_stream_when_the_client_leaves(http):
    watch = Watch(http, {"key": "a"})
    watch.next()
    assert http.gateway.open_watches == 1
    watch.response.close()
    wait_until(http, lambda: http.gateway.open_watches == 0)
    put(http, "a", "1")  # the app still serves
    assert Watch(http, {"key": "a", "start_revision": 1}).next()["created"]


def test_shutdown_ends_open_watches(http):
    Watch(http, {"key": "a"}).next()
    http.run(asyncio.wait_for(http.runner.cleanup(), 10))
    assert http.gateway.open_watches == 0


@pytest.mark.parametrize("body", [{"key": ""}, {"key": "a", "prefix": True, "range_end": "b"}, {"key": 1}, b"{"])
def test_bad_watch_requests_are_400(http, body):
    answer = http.post("/v1/watch", body)
    assert answer.status == 400 and answer.json["error"] == "bad_request"
    assert http.gateway.open_watches == 0


# -- the OpenAPI document ------------------------------------------------------------------------------------------


def test_openapi_is_valid():
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(OPENAPI)
    assert OPENAPI["openapi"].startswith("3.1")


def test_openapi_lists_every_route_served():
    app = make_app(FakeGateway())
    served = {(route.method.lower(), route.resource.canonical) for route in app.router.routes()}
    documented = {(method, path) for path, item in OPENAPI["paths"].items() for method in item}
    assert served == documented


def _without_descriptions(schema):
    if isinstance(schema, dict):
        return {k: _without_descriptions(v) for k, v in schema.items() if k not in ("description", "title")}
    return schema


def test_openapi_request_schemas_are_the_body_structs():
    """Each route's documented request body is the JSON body of its operation in the registry, field for field."""
    schemas = OPENAPI["components"]["schemas"]
    documented = {
        (method.upper(), path): op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for path, item in OPENAPI["paths"].items()
        for method, op in item.items()
        if "requestBody" in op
    }
    bodies = {(s.http_method, s.http_path): s.http_body for s in OPS.http_routes() if s.http_body is not None}
    assert documented == {route: body.__name__ for route, body in bodies.items()}
    _, generated = msgspec.json.schema_components(
        sorted(bodies.values(), key=lambda body: body.__name__), ref_template="#/components/schemas/{name}"
    )
    for name, schema in generated.items():
        assert _without_descriptions(schemas[name]) == _without_descriptions(schema), name


def test_answers_match_the_openapi_document(http):
    jsonschema = pytest.importorskip("jsonschema")

    def check(method, path, body=None, status=200):
        answer = http.request(method, path, body)
        assert answer.status == status, answer.body
        documented = OPENAPI["paths"][path][method.lower()]["responses"][str(status)]
        if "$ref" in documented:
            documented = OPENAPI["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
        [(content_type, media)] = documented["content"].items()
        assert answer.headers["Content-Type"].startswith(content_type)
        if content_type == "application/json":
            jsonschema.Draft202012Validator({**OPENAPI, **media["schema"]}).validate(answer.json)

    check("GET", "/")
    check("GET", "/openapi.json")
    check("POST", "/v1/lease/grant", {"id": 7, "ttl_s": 60})
    check("POST", "/v1/lease/grant", {"id": 7, "ttl_s": 60}, 409)
    check("POST", "/v1/kv/put", {"key": "a", "value": "1", "lease": 7})
    check("POST", "/v1/kv/put", {"key": "a", "value": "2", "prev_kv": True})
    check("POST", "/v1/kv/put", {"key": "b", "value": "1", "lease": 8}, 404)
    http.gateway.store.apply([Put(b"c", b"\xff")])
    check("POST", "/v1/kv/range", {"key": "", "prefix": True})
    check(
        "POST",
        "/v1/kv/txn",
        {
            "compares": [{"key": "a", "target": "mod", "result": ">", "value": 0}],
            "success": [
                {"range": {"key": "a"}},
                {"put": {"key": "d", "value": "1"}},
                {"delete_range": {"key": "c", "prev_kv": True}},
            ],
        },
    )
    check("POST", "/v1/kv/delete_range", {"key": "d", "prev_kv": True})
    check("POST", "/v1/kv/compact", {"revision": 3})
    check("POST", "/v1/kv/range", {"key": "a", "revision": 1}, 410)
    check("POST", "/v1/lease/keepalive", {"id": 7})
    check("POST", "/v1/lease/timetolive", {"id": 7, "keys": True})
    check("GET", "/v1/lease/list")
    check("POST", "/v1/lease/revoke", {"id": 7})
    check("GET", "/v1/members")
    check("POST", "/v1/members/add", {"peer": "n2:7001", "learner": False})
    check("POST", "/v1/members/promote", {"id": 2})
    check("POST", "/v1/members/remove", {"id": 2})
    check("POST", "/v1/members/remove", {"id": 2}, 404)
    check("GET", "/v1/status")
    check("POST", "/v1/move_leader", {"target": 1})
    check("GET", "/v1/snapshot")
    check("POST", "/v1/watch", {"key": "a"})
    check("POST", "/v1/watch", {"key": ""}, 400)
    check("POST", "/v1/kv/put", {"key": "a", "value": "x" * MAX_BODY_BYTES}, 413)
    for error, status in [
        (Error(ErrorKind.NOT_LEADER, "x", 1, "n1:7002"), 421),
        (Error(ErrorKind.UNAVAILABLE, "x"), 503),
        (Error(ErrorKind.TIMEOUT, "x"), 504),
        (Error(ErrorKind.INTERNAL, "x"), 500),
    ]:
        http.gateway.replies.append(error)
        check("GET", "/v1/status", status=status)
