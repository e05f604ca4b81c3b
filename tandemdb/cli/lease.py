"""``tandem lease grant|revoke|keep-alive|timetolive|list``. Lease ids are hexadecimal, as in etcdctl."""

from __future__ import annotations

import functools
import time

import click

from ..client import KVError, NotFoundError
from ..kv.results import ErrorCode
from ..wire.client_api import LeaseTTLResult
from .common import LEASE_ID, Table, emit, make_client, reports_errors


@click.group()
def lease() -> None:
    """Leases: keys attached to one are deleted when it expires or is revoked."""


@lease.command()
@click.argument("ttl", type=click.IntRange(min=1))
@click.pass_context
@reports_errors
def grant(ctx: click.Context, ttl: int) -> None:
    """Create a lease of TTL seconds."""
    result = make_client(ctx).lease_grant(ttl)
    emit(ctx, result, lambda: click.echo(f"lease {result.id:x} granted with TTL({result.ttl_s}s)"))


@lease.command()
@click.argument("lease_id", metavar="ID", type=LEASE_ID)
@click.pass_context
@reports_errors
def revoke(ctx: click.Context, lease_id: int) -> None:
    """Revoke lease ID, deleting its keys."""
    result = make_client(ctx).lease_revoke(lease_id)
    emit(ctx, result, lambda: click.echo(f"lease {lease_id:x} revoked"))


@lease.command("keep-alive")
@click.argument("lease_id", metavar="ID", type=LEASE_ID)
@click.option("--once", is_flag=True, help="Renew once and exit.")
@click.pass_context
@reports_errors
def keep_alive(ctx: click.Context, lease_id: int, once: bool) -> None:
    """Keep lease ID alive: renew it every third of its TTL until Ctrl-C."""
    client = make_client(ctx)
    try:
        while True:
            try:
                result = client.lease_keepalive(lease_id)
            except KVError as e:
                if e.code != ErrorCode.LEASE_NOT_FOUND:
                    raise
                raise click.ClickException(f"lease {lease_id:x} expired or revoked") from None
            if result.ttl_s < 0:
                raise click.ClickException(f"lease {lease_id:x} expired or revoked")
            message = f"lease {lease_id:x} keepalived with TTL({result.ttl_s}s)"
            emit(ctx, result, functools.partial(click.echo, message))
            if once:
                return
            time.sleep(max(result.granted_ttl_s or result.ttl_s, 1) / 3)
    except KeyboardInterrupt:
        ctx.exit(130)


@lease.command()
@click.argument("lease_id", metavar="ID", type=LEASE_ID)
@click.option("--keys", is_flag=True, help="List the keys attached to the lease.")
@click.pass_context
@reports_errors
def timetolive(ctx: click.Context, lease_id: int, keys: bool) -> None:
    """Show the remaining TTL of lease ID."""
    try:
        result = make_client(ctx).lease_ttl(lease_id, keys=keys)
    except NotFoundError:
        result = LeaseTTLResult(lease_id, -1)
    emit(ctx, result, lambda: click.echo(describe_ttl(result, keys)))


@lease.command("list")
@click.pass_context
@reports_errors
def list_(ctx: click.Context) -> None:
    """List the live leases."""
    result = make_client(ctx).lease_list()

    def simple() -> None:
        click.echo(f"found {len(result.ids)} leases")
        for lease_id in result.ids:
            click.echo(f"{lease_id:x}")

    emit(ctx, result, simple, lambda: Table(["ID"], [[f"{i:x}"] for i in result.ids]))


def describe_ttl(result: LeaseTTLResult, keys: bool) -> str:
    if result.ttl_s < 0:
        return f"lease {result.id:x} already expired"
    text = f"lease {result.id:x} granted with TTL({result.granted_ttl_s}s), remaining({result.ttl_s}s)"
    if keys:
        text += f", attached keys([{' '.join(k.decode(errors='backslashreplace') for k in result.keys)}])"
    return text
