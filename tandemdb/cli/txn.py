"""``tandem txn``: a transaction in etcdctl's text format, read from standard input."""

from __future__ import annotations

import re
import shlex
import sys

import click

from ..client.async_client import key_range
from ..kv.commands import Compare, DeleteRange, Put, Range, RequestOp
from ..kv.results import DeleteRangeResult, PutResult, TxnResult
from .common import LEASE_ID, arg_bytes, emit, make_client, reports_errors
from .kv import print_delete, print_put, print_range

_COMPARE = re.compile(r'^\s*(\w+)\(\s*("(?:[^"\\]|\\.)*")\s*\)\s*(=|==|!=|<|>)\s*(.+?)\s*$')
_TARGETS = {"value": "value", "val": "value", "version": "version", "ver": "version", "create": "create",
            "c": "create", "mod": "mod", "m": "mod", "lease": "lease"}
_PROMPTS = ("compares:", "success requests (get, put, del):", "failure requests (get, put, del):")


@click.command()
@click.pass_context
@reports_errors
def txn(ctx: click.Context) -> None:
    """Run a transaction read from standard input (etcdctl's format).

    \b
    Compares, one a line:  value("k") = "v"   mod("k") > "5"   version("k") != "0"   create("k") < "9"
                           lease("k") = "1f"  (=, !=, <, >; lease ids in hex)
    a blank line, then the requests run if every compare holds:  put k v   get k --prefix   del k
    a blank line, then the requests run otherwise.
    """
    compares, success, failure = parse_txn(_read_sections())
    result = make_client(ctx).txn(compares, success, failure)
    emit(ctx, result, lambda: print_txn(result))


def _read_sections() -> list[list[str]]:
    """The three blank-line separated sections of standard input (prompting for each on a terminal)."""
    interactive = sys.stdin.isatty()
    sections: list[list[str]] = []
    for prompt in _PROMPTS:
        if interactive:
            click.echo(prompt, err=True)
        lines = []
        while (line := sys.stdin.readline()) and line.strip():
            lines.append(line.strip())
        sections.append(lines)
    return sections


def parse_txn(sections: list[list[str]]) -> tuple[list[Compare], list[RequestOp], list[RequestOp]]:
    compares, success, failure = sections
    return [parse_compare(c) for c in compares], [parse_op(o) for o in success], [parse_op(o) for o in failure]


def parse_compare(line: str) -> Compare:
    match = _COMPARE.match(line)
    if match is None or match[1] not in _TARGETS:
        raise click.UsageError(f"bad compare {line!r}: expected e.g. value(\"key\") = \"v\" or mod(\"key\") > \"5\"")
    target, key, result, value = _TARGETS[match[1]], _unquote(match[2]), match[3], _unquote(match[4])
    result = "==" if result == "=" else result
    if target == "value":
        return Compare(arg_bytes(key), target, result, arg_bytes(value))
    try:
        number = int(value, 16) if target == "lease" else int(value)
    except ValueError:
        raise click.UsageError(f"bad compare {line!r}: {target} compares with an integer") from None
    return Compare(arg_bytes(key), target, result, number)


def _unquote(text: str) -> str:
    words = shlex.split(text)
    if len(words) != 1:
        raise click.UsageError(f"expected one quoted value, got {text!r}")
    return words[0]


def parse_op(line: str) -> RequestOp:
    words = shlex.split(line)
    command = _OPS.get(words[0]) if words else None
    if command is None:
        raise click.UsageError(f"bad request {line!r}: expected get, put or del")
    try:
        return command.main(words[1:], prog_name=words[0], standalone_mode=False)
    except click.ClickException as e:
        raise click.UsageError(f"bad request {line!r}: {e.format_message()}") from None


@click.command()
@click.argument("key")
@click.argument("value")
@click.option("--lease", type=LEASE_ID, default="0")
@click.option("--prev-kv", is_flag=True)
def _put(key: str, value: str, lease: int, prev_kv: bool) -> Put:
    return Put(arg_bytes(key), arg_bytes(value), lease=lease, prev_kv=prev_kv)


@click.command()
@click.argument("key")
@click.argument("range_end", required=False, default="")
@click.option("--prefix", is_flag=True)
@click.option("--limit", type=click.IntRange(min=0), default=0)
@click.option("--rev", type=click.IntRange(min=0), default=0)
@click.option("--keys-only", is_flag=True)
@click.option("--count-only", is_flag=True)
def _get(key: str, range_end: str, prefix: bool, limit: int, rev: int, keys_only: bool, count_only: bool) -> Range:
    key_bytes, end = key_range(arg_bytes(key), arg_bytes(range_end), prefix)
    return Range(key_bytes, end, revision=rev, limit=limit, keys_only=keys_only, count_only=count_only)


@click.command()
@click.argument("key")
@click.argument("range_end", required=False, default="")
@click.option("--prefix", is_flag=True)
@click.option("--prev-kv", is_flag=True)
def _del(key: str, range_end: str, prefix: bool, prev_kv: bool) -> DeleteRange:
    key_bytes, end = key_range(arg_bytes(key), arg_bytes(range_end), prefix)
    return DeleteRange(key_bytes, end, prev_kv=prev_kv)


_OPS = {"put": _put, "get": _get, "del": _del}


def print_txn(result: TxnResult) -> None:
    click.echo("SUCCESS" if result.succeeded else "FAILURE")
    for response in result.responses:
        click.echo()
        if isinstance(response, PutResult):
            print_put(response)
        elif isinstance(response, DeleteRangeResult):
            print_delete(response)
        else:
            print_range(response)
