"""The registry of operations (``tandemdb.wire.ops``) is the one list of the protocol's operations: the wire union,
the node's dispatch, the HTTP routes and ``openapi.json``, the client's sessions and the state machines' own
``OpKinds`` all agree with it, and a new entry in it is enough for the codec and the HTTP API to take it."""

from __future__ import annotations

import asyncio
import inspect
import json

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer
from msgspec import inspect as mi

from tandemdb.client import AsyncClient, async_client
from tandemdb.node import node as node_module
from tandemdb.node.config import NodeConfig
from tandemdb.node.machines import MACHINES
from tandemdb.server.http_api import OPENAPI_PATH, make_app
from tandemdb.state_machine import OpKinds
from tandemdb.wire import client_api, http_bodies
from tandemdb.wire.client_api import Member, MemberAdd, Request, decode_request, encode
from tandemdb.wire.ops import OPS, OpKind, OpSpec, machine_ops

OPENAPI = json.loads(OPENAPI_PATH.read_text())
NOT_OPERATIONS = {("GET", "/"), ("GET", "/openapi.json")}  # the index and the document itself


def sample(op_type: type) -> msgspec.Struct:
    """An instance of ``op_type`` with a value in every field (bytes b"k", ints 1, ...)."""
    return _value(mi.type_info(op_type))


def _value(t: mi.Type):
    if isinstance(t, mi.StructType):
        return t.cls(*[_value(f.type) for f in t.fields])
    if isinstance(t, mi.UnionType):
        return _value(t.types[0])
    if isinstance(t, mi.ListType):
        return [_value(t.item_type)]
    values = {mi.IntType: 1, mi.BytesType: b"k", mi.StrType: "s", mi.BoolType: True}
    return values[type(t)]


def request_op_types(request_type: type) -> list[type]:
    [field] = [f for f in mi.type_info(request_type).fields if f.name == "op"]
    assert isinstance(field.type, mi.UnionType)
    return [t.cls for t in field.type.types]


# -- the wire union --------------------------------------------------------------------------------------------------


def test_every_operation_of_the_wire_union_has_one_entry_and_every_entry_is_in_the_union():
    on_the_wire = request_op_types(Request)
    assert len(on_the_wire) == len(set(on_the_wire)) == len(OPS)
    assert set(on_the_wire) == set(OPS.types())
    assert sorted(s.tag for s in OPS) == sorted(t.__struct_config__.tag for t in on_the_wire)


@pytest.mark.parametrize("spec", list(OPS), ids=lambda s: s.op_type.__name__)
def test_every_registered_operation_crosses_the_wire(spec):
    req = Request(3, sample(spec.op_type), client_id=5, seq=2)
    assert decode_request(encode(req)) == req


class Toy(msgspec.Struct, tag="toy", array_like=True):
    name: bytes
    n: int = 0


class ToyBody(http_bodies.JsonBody):
    name: str

    def build(self, to_bytes: http_bodies.ToBytes) -> Toy:
        return Toy(to_bytes(self.name, "name"))


TOY_OPS = OPS.with_ops(OpSpec(Toy, OpKind.ADMIN, "POST /v1/toy", ToyBody))


def test_an_entry_in_the_table_is_enough_for_the_codec_to_decode_its_operation():
    # Request.op is the registry's union itself: an entry in OPS is an operation on the wire.
    assert client_api.Op == OPS.union()
    envelope = msgspec.defstruct("Request", [("id", int), ("op", TOY_OPS.union())], array_like=True)
    data = msgspec.msgpack.encode(envelope(7, Toy(b"x", 2)))
    assert msgspec.msgpack.decode(data, type=envelope) == envelope(7, Toy(b"x", 2))
    member_add = envelope(8, sample(MemberAdd))  # and the registered ones as before
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(member_add), type=envelope) == member_add
    without = msgspec.defstruct("Request", [("id", int), ("op", OPS.union())], array_like=True)
    with pytest.raises(msgspec.ValidationError, match="toy"):
        msgspec.msgpack.decode(data, type=without)


# -- the table's own checks ------------------------------------------------------------------------------------------


class Untagged(msgspec.Struct, array_like=True):
    pass


class NeedsArgs(msgspec.Struct, tag="needs_args", array_like=True):
    x: int


class SameTag(msgspec.Struct, tag="put", array_like=True):
    pass


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        (OpSpec(Untagged, OpKind.ADMIN), "string tag"),
        (OpSpec(SameTag, OpKind.ADMIN), "share the tag"),
        (OpSpec(Toy, OpKind.ADMIN, "POST /v1/kv/put", ToyBody), "share POST /v1/kv/put"),
        (OpSpec(Toy, OpKind.ADMIN, "POST /v1/toy"), "needs a JSON body"),
        (OpSpec(Toy, OpKind.ADMIN, "GET /v1/toy", ToyBody), "needs a JSON body"),
        (OpSpec(Toy, OpKind.ADMIN, "", ToyBody), "without a route"),
        (OpSpec(Toy, OpKind.ADMIN, "PUT /v1/toy", ToyBody), "is not 'GET /path'"),
        (OpSpec(NeedsArgs, OpKind.ADMIN, "GET /v1/needs"), "needs some"),
        (OpSpec(Toy, "admin"), "not an OpKind"),
        (OPS.spec(client_api.Status), "registered twice"),
    ],
)
def test_a_broken_table_is_refused(spec, why):
    with pytest.raises(ValueError, match=why):
        OPS.with_ops(spec)


def test_routes_for_operations_a_machine_does_not_serve_are_refused():
    with pytest.raises(ValueError, match="does not serve"):
        machine_ops(OpKinds(writes=(Toy,), reads=(), leader=()), {NeedsArgs: ("POST /v1/x", ToyBody)})


def test_something_else_than_an_operation_is_not_one():
    with pytest.raises(TypeError, match="not an operation"):
        OPS.spec(Member)


# -- the state machines ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_every_operation_of_every_state_machine_is_registered_with_its_machines_kind(name):
    machine = MACHINES[name](NodeConfig(Member(1, "n1:1")))
    ops = machine.ops
    for op_type in ops.writes:
        assert OPS.spec(op_type).kind is OpKind.WRITE, op_type
    for op_type in (*ops.reads, *ops.leader):
        assert OPS.spec(op_type).kind is OpKind.READ, op_type
    # The machine decodes its log entries with ``command_type``: exactly its writes.
    assert set(_classes(machine.command_type)) == set(ops.writes)


def _classes(union) -> list[type]:
    info = mi.type_info(union)
    return [t.cls for t in info.types] if isinstance(info, mi.UnionType) else [info.cls]


def test_only_state_machines_serve_writes_and_reads():
    served = set()
    for factory in MACHINES.values():
        ops = factory(NodeConfig(Member(1, "n1:1"))).ops
        served |= {*ops.writes, *ops.reads, *ops.leader}
    assert set(OPS.types(OpKind.WRITE, OpKind.READ)) == served


# -- the node --------------------------------------------------------------------------------------------------------


def test_the_node_has_a_handler_for_each_of_its_own_operations_and_for_nothing_else():
    handled = node_module._GROUP_OPS.keys() | node_module._NODE_OPS.keys()
    assert handled == set(OPS.types(OpKind.ADMIN, OpKind.STREAM))
    assert not handled & set(OPS.types(OpKind.WRITE, OpKind.READ))


# -- HTTP ------------------------------------------------------------------------------------------------------------


def routes_served(app) -> set[tuple[str, str]]:
    return {(r.method, r.resource.canonical) for r in app.router.routes()}


def test_every_route_of_the_registry_is_served_and_nothing_else():
    registry = {(s.http_method, s.http_path) for s in OPS.http_routes()}
    assert routes_served(make_app(object())) == registry | NOT_OPERATIONS


def test_openapi_documents_exactly_the_routes_of_the_registry():
    documented = {(method.upper(), path) for path, item in OPENAPI["paths"].items() for method in item}
    assert documented == {(s.http_method, s.http_path) for s in OPS.http_routes()} | NOT_OPERATIONS


def test_openapi_request_bodies_are_the_registrys():
    for spec in OPS.http_routes():
        documented = OPENAPI["paths"][spec.http_path][spec.http_method.lower()]
        if spec.http_body is None:
            assert "requestBody" not in documented, spec.http_route
            continue
        ref = documented["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == f"#/components/schemas/{spec.http_body.__name__}", spec.http_route


def test_an_entry_with_a_route_is_enough_for_the_http_api_to_serve_it():
    calls = []

    class Gateway:
        async def call(self, op, **options):
            calls.append(op)
            return client_api.OkResult()

    async def go():
        async with TestClient(TestServer(make_app(Gateway(), ops=TOY_OPS))) as http:
            answer = await http.post("/v1/toy", json={"name": "x"})
            assert answer.status == 200, await answer.text()
            assert await answer.json() == {}

    asyncio.run(go())
    assert calls == [Toy(b"x")]


# -- the client ------------------------------------------------------------------------------------------------------


class RecordingCluster:
    """Stands for the client's ``Cluster``: records what is sent, with which session, and answers ``reply``."""

    def __init__(self) -> None:
        self.sent: list[tuple[msgspec.Struct, tuple[int, int]]] = []
        self.endpoints = ["n1:1"]

    async def call(self, op, *, serializable=False, session=(0, 0)):
        self.sent.append((op, session))
        return client_api.OkResult()

    async def call_at(self, endpoint, op, *, serializable=False, session=(0, 0)):
        return await self.call(op, serializable=serializable, session=session)

    async def close(self) -> None:
        pass


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setattr(async_client, "_result", lambda reply, expected: reply)
    c = AsyncClient("n1:1")
    c._cluster = RecordingCluster()
    return c


@pytest.mark.parametrize("spec", [s for s in OPS if s.kind is not OpKind.STREAM], ids=lambda s: s.op_type.__name__)
def test_the_client_sends_every_write_with_a_session_and_everything_else_without(client, spec):
    asyncio.run(client.call(sample(spec.op_type), object))
    asyncio.run(client.call(sample(spec.op_type), object, endpoint="n1:1"))
    for _, (client_id, seq) in client._cluster.sent:
        assert (client_id != 0 and seq != 0) if spec.kind is OpKind.WRITE else (client_id, seq) == (0, 0)


@pytest.mark.parametrize("spec", [s for s in OPS if s.kind is OpKind.STREAM], ids=lambda s: s.op_type.__name__)
def test_the_client_sends_streams_through_their_own_api_only(client, spec):
    with pytest.raises(TypeError, match="stream"):
        asyncio.run(client.call(sample(spec.op_type), object))


NAMED_CALLS = {
    "put": ("k", "v"),
    "get": ("k",),
    "delete": ("k",),
    "txn": ([], [], []),
    "compact": (3,),
    "lease_grant": (10,),
    "lease_revoke": (1,),
    "lease_keepalive": (1,),
    "lease_ttl": (1,),
    "lease_list": (),
    "member_list": (),
    "member_add": ("n4:1",),
    "member_remove": (4,),
    "member_promote": (4,),
    "status": (),
    "health": ("n1:1",),
    "group_create": (2, [1]),
    "move_leader": (2,),
    "snapshot_save": (),
}


def test_every_named_method_is_covered_here():
    named = {
        name
        for name, value in vars(AsyncClient).items()
        if inspect.iscoroutinefunction(value) and not name.startswith("_")
    }
    assert named - {"call", "close", "endpoints_status"} == set(NAMED_CALLS)


@pytest.mark.parametrize("name", sorted(NAMED_CALLS))
def test_each_named_method_sends_its_operation_as_the_registry_says(client, name):
    asyncio.run(getattr(client, name)(*NAMED_CALLS[name]))
    [(op, session)] = client._cluster.sent
    assert (session != (0, 0)) == (OPS.spec(type(op)).kind is OpKind.WRITE), (op, session)
