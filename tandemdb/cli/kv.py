"""Key-value commands: ``put``, ``get``, ``del``, ``watch``, ``compaction`` (etcdctl's options and output)."""

from __future__ import annotations

import click

from ..kv.results import DeleteRangeResult, EventType, PutResult, RangeResult
from ..wire.client_api import WatchEvents
from .common import (
    LEASE_ID,
    arg_bytes,
    echo_json,
    echo_kv,
    emit,
    kv_table,
    make_client,
    output_format,
    reports_errors,
)


@click.command()
@click.argument("key")
@click.argument("value", required=False)
@click.option("--lease", type=LEASE_ID, default="0", help="Attach the key to this lease (hex id).")
@click.option("--prev-kv", is_flag=True, help="Print the key's previous version.")
@click.pass_context
@reports_errors
def put(ctx: click.Context, key: str, value: str | None, lease: int, prev_kv: bool) -> None:
    """Set KEY to VALUE; without VALUE, to all of standard input, byte for byte."""
    data = arg_bytes(value) if value is not None else click.get_binary_stream("stdin").read()
    result = make_client(ctx).put(arg_bytes(key), data, lease=lease, prev_kv=prev_kv)
    emit(ctx, result, lambda: print_put(result))


@click.command()
@click.argument("key")
@click.argument("range_end", required=False, default="")
@click.option("--prefix", is_flag=True, help="Every key starting with KEY.")
@click.option("--limit", type=click.IntRange(min=0), default=0, help="At most this many keys (0: all).")
@click.option("--rev", type=click.IntRange(min=0), default=0, help="As of this revision (0: the latest).")
@click.option("--keys-only", is_flag=True, help="Keys without values.")
@click.option("--count-only", is_flag=True, help="Only the number of keys.")
@click.option("--consistency", type=click.Choice(["l", "s"]), default="l", show_default=True,
              help="l: linearizable; s: serializable (this node's state, possibly stale).")
@click.option("--print-value-only", is_flag=True, help="Values only (simple output).")
@click.pass_context
@reports_errors
def get(ctx: click.Context, key: str, range_end: str, prefix: bool, limit: int, rev: int, keys_only: bool,
        count_only: bool, consistency: str, print_value_only: bool) -> None:
    """Read KEY, or the keys in [KEY, RANGE_END)."""
    result = make_client(ctx).get(
        arg_bytes(key), arg_bytes(range_end), prefix=prefix, limit=limit, revision=rev, keys_only=keys_only,
        count_only=count_only, serializable=consistency == "s",
    )

    def simple() -> None:
        if count_only:
            click.echo(result.count)
        print_range(result, keys_only=keys_only, value_only=print_value_only)

    emit(ctx, result, simple, lambda: kv_table(result.kvs))


@click.command("del")
@click.argument("key")
@click.argument("range_end", required=False, default="")
@click.option("--prefix", is_flag=True, help="Every key starting with KEY.")
@click.option("--prev-kv", is_flag=True, help="Print the deleted versions.")
@click.pass_context
@reports_errors
def delete(ctx: click.Context, key: str, range_end: str, prefix: bool, prev_kv: bool) -> None:
    """Delete KEY, or the keys in [KEY, RANGE_END); prints how many were deleted."""
    result = make_client(ctx).delete(arg_bytes(key), arg_bytes(range_end), prefix=prefix, prev_kv=prev_kv)
    emit(ctx, result, lambda: print_delete(result), lambda: kv_table(result.prev_kvs))


@click.command()
@click.argument("key")
@click.argument("range_end", required=False, default="")
@click.option("--prefix", is_flag=True, help="Every key starting with KEY.")
@click.option("--rev", type=click.IntRange(min=0), default=0, help="From this revision (0: from the next change).")
@click.option("--prev-kv", is_flag=True, help="Print each key's previous version too.")
@click.pass_context
@reports_errors
def watch(ctx: click.Context, key: str, range_end: str, prefix: bool, rev: int, prev_kv: bool) -> None:
    """Print the changes to KEY, or to the keys in [KEY, RANGE_END), until Ctrl-C.

    Across node failures the watch resumes on another endpoint without missing or repeating a change.
    """
    stream = make_client(ctx).watch(arg_bytes(key), arg_bytes(range_end), prefix=prefix, start_revision=rev,
                                    prev_kv=prev_kv)
    json_out = output_format(ctx) == "json"
    try:
        for batch in stream:
            if json_out:
                echo_json(batch)
            else:
                print_events(batch)
            if batch.canceled:
                raise click.ClickException(canceled_reason(batch))
    except KeyboardInterrupt:
        stream.cancel()
        ctx.exit(130)


@click.command()
@click.argument("revision", type=click.IntRange(min=1))
@click.pass_context
@reports_errors
def compaction(ctx: click.Context, revision: int) -> None:
    """Forget the history before REVISION."""
    result = make_client(ctx).compact(revision)
    emit(ctx, result, lambda: click.echo(f"compacted revision {revision}"))


def print_put(result: PutResult) -> None:
    click.echo("OK")
    if result.prev_kv is not None:
        echo_kv(result.prev_kv)


def print_range(result: RangeResult, *, keys_only: bool = False, value_only: bool = False) -> None:
    for kv in result.kvs:
        echo_kv(kv, keys_only=keys_only, value_only=value_only)


def print_delete(result: DeleteRangeResult) -> None:
    click.echo(result.deleted)
    for kv in result.prev_kvs:
        echo_kv(kv)


def print_events(batch: WatchEvents) -> None:
    for event in batch.events:
        click.echo("PUT" if event.type == EventType.PUT else "DELETE")
        if event.prev_kv is not None:
            echo_kv(event.prev_kv)
        echo_kv(event.kv)


def canceled_reason(batch: WatchEvents) -> str:
    if batch.compact_revision:
        return f"watch canceled: the start revision is compacted (compact revision {batch.compact_revision})"
    return f"watch canceled: {batch.reason or 'by the node'}"
