"""JSON <-> protocol structs for the HTTP API.

Requests are decoded with msgspec into the body struct that the registry of operations names for their route
(``tandemdb.wire.ops``, bodies in ``tandemdb.wire.http_bodies``), then built into their operation. Bytes (keys,
values, range ends, compare values) travel as UTF-8 strings, or base64 when the request says
``"encoding": "base64"``. A response is base64 too if its request was, or if some of its bytes are not UTF-8;
it then says ``"encoding": "base64"``.
"""

from __future__ import annotations

import functools
from base64 import b64decode, b64encode
from typing import Any, NamedTuple, TypedDict

import msgspec

from ..kv.results import EventType, TxnResult
from ..wire.client_api import Op
from ..wire.http_bodies import BASE64, UTF8, BadRequest, JsonBody, UInt

__all__ = ["BASE64", "UTF8", "BadRequest", "CallOptions", "Parsed", "call_options", "parse", "render"]


class CallOptions(JsonBody):
    """Query parameters every route takes: the Raft group (0: route by key) and a timeout (0: the node's)."""

    group: UInt = 0
    timeout_ms: UInt = 0


class Parsed(NamedTuple):
    op: Op
    encoding: str
    serializable: bool


def parse(body_type: type[JsonBody], data: bytes) -> Parsed:
    """Decode a request body (empty: ``{}``) into its operation; raises ``msgspec.ValidationError``,
    ``msgspec.DecodeError`` or ``BadRequest``."""
    body = _decoder(body_type).decode(data or b"{}")
    encoding = getattr(body, "encoding", UTF8)
    op = body.build(_from_base64 if encoding == BASE64 else _from_utf8)
    return Parsed(op, encoding, getattr(body, "serializable", False))


@functools.cache
def _decoder(body_type: type[JsonBody]) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(body_type)


class CallOptionsArgs(TypedDict):
    """``CallOptions`` as the keyword arguments of ``Gateway.call``."""

    group: int
    timeout_ms: int


def call_options(query: dict[str, str]) -> CallOptionsArgs:
    options = msgspec.convert(query, CallOptions, strict=False)
    return {"group": options.group, "timeout_ms": options.timeout_ms}


def _from_utf8(text: str, field: str) -> bytes:
    return text.encode()  # msgspec refuses JSON strings that are not valid Unicode


def _from_base64(text: str, field: str) -> bytes:
    try:
        return b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise BadRequest(f"`{field}` is not valid base64") from None


# -- replies -------------------------------------------------------------------------------------------------------


def render(reply: msgspec.Struct, encoding: str = UTF8) -> dict[str, Any]:
    """A reply as a JSON object with field names, its bytes per the encoding rule."""
    if encoding == UTF8:
        try:
            return _to_json(reply, False)
        except UnicodeDecodeError:
            pass
    return _to_json(reply, True) | {"encoding": BASE64}


def _to_json(obj: Any, b64: bool) -> Any:
    if isinstance(obj, msgspec.Struct):
        out = {name: _to_json(getattr(obj, name), b64) for name in obj.__struct_fields__}
        if isinstance(obj, TxnResult):  # say which kind each response is, as the request does
            tags = [r.__struct_config__.tag for r in obj.responses]
            out["responses"] = [{tag: v} for tag, v in zip(tags, out["responses"], strict=True)]
        return out
    if isinstance(obj, bytes):
        return b64encode(obj).decode() if b64 else obj.decode()
    if isinstance(obj, list):
        return [_to_json(item, b64) for item in obj]
    if isinstance(obj, EventType):
        return obj.name.lower()
    return obj
