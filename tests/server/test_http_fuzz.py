"""Fuzzing the HTTP API: random bytes bodies, random JSON in the routes' own fields, random paths and methods.
Whatever comes in, the answer is never a 5xx, every error answer is a JSON error object, and the app keeps
serving afterwards."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fake_gateway import Served
from tandemdb.server.http_api import OPENAPI_PATH

OPENAPI = json.loads(OPENAPI_PATH.read_text())
SCHEMAS = OPENAPI["components"]["schemas"]
POST_PATHS = [path for path, item in OPENAPI["paths"].items() if "post" in item]
WORDS = ["value", "version", "create", "mod", "lease", "==", "!=", "<", ">", "base64", "utf-8", "a", "YQ==", "", "\0"]

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(-(1 << 70), 1 << 70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


def plausible(schema: dict) -> st.SearchStrategy:
    """Mostly values of the schema's shape (so that requests get past decoding), sometimes any JSON at all."""
    shaped = shaped_like(schema)
    return st.one_of(shaped, shaped, shaped, any_json)


def shaped_like(schema: dict) -> st.SearchStrategy:
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        return st.one_of([plausible(s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema["type"]
    if kind == "object":
        fields = {name: plausible(p) for name, p in schema["properties"].items()}
        required = {name: fields.pop(name) for name in schema["required"]}
        return st.fixed_dictionaries(required, optional=fields)
    if kind == "array":
        return st.lists(plausible(schema["items"]), max_size=3)
    if kind == "integer":
        return st.integers(-1, 9) | st.integers()
    if kind == "string":
        return st.sampled_from(WORDS) | st.text(max_size=6)
    return st.booleans() if kind == "boolean" else st.none()


def body_of(path: str) -> st.SearchStrategy:
    return shaped_like(OPENAPI["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"])


@pytest.fixture(scope="module")
def http():
    served = Served()
    yield served
    served.close()


def check(http: Served, method: str, path: str, body=None, **options) -> None:
    answer = http.request(method, path, body, **options)
    assert answer.status < 500, (method, path, body, answer.body)
    if answer.status >= 400:
        error = answer.json
        assert isinstance(error["error"], str) and isinstance(error["message"], str)


def check_still_serving(http: Served) -> None:
    key = "still-serving"
    assert http.post("/v1/kv/put", {"key": key, "value": "yes"}).status == 200
    assert http.post("/v1/kv/range", {"key": key}).json["kvs"][0]["value"] == "yes"


def test_random_bytes_bodies(http):
    @FUZZ
    @given(st.sampled_from(POST_PATHS), st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
    def fuzz(path, body):
        check(http, "POST", path, body)

    fuzz()
    check_still_serving(http)


def test_random_json_in_the_routes_fields(http):
    queries = st.dictionaries(st.sampled_from(["group", "timeout_ms", "x"]), st.sampled_from(["0", "1", "-1", "a"]))

    @FUZZ
    @given(st.data(), st.sampled_from(POST_PATHS), queries)
    def fuzz(data, path, query):
        check(http, "POST", path, data.draw(body_of(path)), params=query)

    fuzz()
    check_still_serving(http)


def test_random_paths_and_methods(http):
    segment = st.sampled_from(["v1", "kv", "lease", "members", "watch", "..", "%", "%2F"]) | st.text(
        "abz-_.~%", min_size=1, max_size=6
    )
    paths = st.lists(segment, max_size=4).map(lambda p: "/" + "/".join(p))

    @FUZZ
    @given(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]), paths | st.sampled_from(POST_PATHS))
    def fuzz(method, path):
        check(http, method, path, b"{}")

    fuzz()
    check_still_serving(http)
