"""Shared by the client commands: the global options, the client they build, errors, and the three output
formats (``simple``: etcdctl-like text with raw keys and values; ``json``: one JSON document per result, bytes
as UTF-8 text when they decode, else base64; ``table``: rich tables, or simple where a table makes no sense)."""

from __future__ import annotations

import base64
import functools
import json
import os
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any, ParamSpec, TypeVar

import click
import msgspec

from ..client import AsyncClient, Client, TandemError
from ..kv.results import KeyValue
from .durations import Duration

DEFAULT_ENDPOINTS = "127.0.0.1:2379"

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])
AnyClient = TypeVar("AnyClient", Client, AsyncClient)


class LeaseID(click.ParamType):
    """Lease ids are hexadecimal, as etcdctl prints and reads them."""

    name = "lease_id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return int(value.lower().removeprefix("0x"), 16)
        except ValueError:
            self.fail(f"{value!r} is not a hexadecimal lease id", param, ctx)


LEASE_ID = LeaseID()


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    ctx.ensure_object(dict)[param.name] = value
    return value


def client_options(group: F) -> F:
    """Decorate the ``tandem`` group's function with the client commands' global options (given before the
    command)."""
    common: dict[str, Any] = {"callback": _remember, "expose_value": False, "show_default": True}
    options = [
        click.option("--endpoints", default=DEFAULT_ENDPOINTS, envvar="TANDEM_ENDPOINTS",
                     help="Client endpoints, host:port,... (env TANDEM_ENDPOINTS).", **common),
        click.option("--dial-timeout", type=Duration(), default="2s", help="Timeout of each connection attempt.",
                     **common),
        click.option("--command-timeout", type=Duration(), default="5s",
                     help="Timeout of each command, retries included.", **common),
        click.option("-w", "--write-out", type=click.Choice(["simple", "json", "table"]), default="simple",
                     help="Output format; json shows bytes as UTF-8 text when they decode, else as base64.",
                     **common),
    ]
    for option in reversed(options):
        group = option(group)
    return group


def settings(ctx: click.Context) -> dict:
    return ctx.find_root().obj


def make_client(ctx: click.Context, endpoints: list[str] | None = None) -> Client:
    """A client for the command (of the global endpoints by default), closed when the command ends."""
    return ctx.with_resource(_new_client(Client, ctx, endpoints))


def make_async_client(ctx: click.Context, endpoints: list[str] | None = None) -> AsyncClient:
    return _new_client(AsyncClient, ctx, endpoints)


def _new_client(cls: type[AnyClient], ctx: click.Context, endpoints: list[str] | None) -> AnyClient:
    s = settings(ctx)
    try:
        return cls(endpoints or s["endpoints"], timeout=s["command_timeout"], connect_timeout=s["dial_timeout"])
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--endpoints") from None


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the client's errors into ``Error: <message>`` on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except TandemError as e:
            raise click.ClickException(str(e)) from None

    return wrapper


def arg_bytes(text: str) -> bytes:
    """A command-line argument as the bytes the user typed."""
    return os.fsencode(text)


# Output.


def output_format(ctx: click.Context) -> str:
    return settings(ctx)["write_out"]


def emit(
    ctx: click.Context, result: object, simple: Callable[[], None], table: Callable[[], Table] | None = None
) -> None:
    """Print ``result`` in the chosen format: ``simple`` prints the text form, ``table`` builds the table."""
    fmt = output_format(ctx)
    if fmt == "json":
        echo_json(result)
    elif fmt == "table" and table is not None:
        print_table(table())
    else:
        simple()


def echo_json(value: object) -> None:
    click.echo(json.dumps(jsonable(value)))


def jsonable(value: object) -> object:
    """Structs become objects (with their ``type`` tag if they have one), bytes text or base64."""
    if isinstance(value, msgspec.Struct):
        out = {f: jsonable(getattr(value, f)) for f in value.__struct_fields__}
        tag = value.__struct_config__.tag
        return {"type": tag, **out} if isinstance(tag, str) else out
    if isinstance(value, bytes):
        return text_or_base64(value)
    if isinstance(value, IntEnum):
        return value.name
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def text_or_base64(data: bytes) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return base64.b64encode(data).decode()


def readable(data: bytes) -> str:
    """Bytes for a table cell."""
    return data.decode(errors="backslashreplace")


def echo_kv(kv: KeyValue, *, keys_only: bool = False, value_only: bool = False) -> None:
    if not value_only:
        click.echo(kv.key)
    if not keys_only:
        click.echo(kv.value)


class Table:
    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.headers = headers
        self.rows = rows


def kv_table(kvs: list[KeyValue]) -> Table:
    rows = [(readable(kv.key), readable(kv.value), kv.create_revision, kv.mod_revision, kv.version,
             f"{kv.lease:x}" if kv.lease else "") for kv in kvs]
    return Table(["KEY", "VALUE", "CREATE REV", "MOD REV", "VERSION", "LEASE"], rows)


def print_table(table: Table) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    rich_table = RichTable(*table.headers)
    for row in table.rows:
        rich_table.add_row(*(str(cell) for cell in row))
    out = click.get_text_stream("stdout")
    # Off a terminal rich would wrap at 80 columns; let the table be as wide as its content instead.
    console = Console(file=out, width=None if out.isatty() else 1000)
    console.print(rich_table)


def human_bytes(n: int) -> str:
    value, unit = float(n), "B"
    for bigger in ("kB", "MB", "GB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
