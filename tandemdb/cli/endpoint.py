"""``tandem endpoint status|health``: each endpoint on its own (no redirect), or every member's with --cluster."""

from __future__ import annotations

import asyncio
import time

import click

from ..client import AsyncClient, TandemError
from ..wire.client_api import StatusResult
from .common import (
    Table,
    echo_json,
    emit,
    human_bytes,
    make_async_client,
    make_client,
    output_format,
    print_table,
    reports_errors,
)

_STATUS_HEADERS = ["ID", "ENDPOINT", "REGION", "ZONE", "IS LEADER", "IS LEARNER", "RAFT TERM", "COMMIT INDEX",
                   "APPLIED INDEX", "REVISION", "KEYS", "DB SIZE"]
_cluster_option = click.option("--cluster", is_flag=True, help="Every member's client endpoint, from the member list.")


@click.group()
def endpoint() -> None:
    """The endpoints' own view: status and health."""


@endpoint.command()
@_cluster_option
@click.pass_context
@reports_errors
def status(ctx: click.Context, cluster: bool) -> None:
    """Status of each endpoint: id, endpoint, region, zone, leader and learner flags, raft term, commit and
    applied index, revision, keys, db size."""
    answers = make_client(ctx, _endpoints(ctx, cluster)).endpoints_status()
    ok = [(ep, s) for ep, s in answers if isinstance(s, StatusResult)]
    if output_format(ctx) == "json":
        echo_json([{"endpoint": ep, "status": s} for ep, s in ok])
    elif output_format(ctx) == "table":
        print_table(Table(_STATUS_HEADERS, [_status_row(ep, s) for ep, s in ok]))
    else:
        for ep, s in ok:
            click.echo(", ".join(str(cell) for cell in _status_row(ep, s)))
    failed = [(ep, e) for ep, e in answers if not isinstance(e, StatusResult)]
    _exit_if_failed(ctx, [f"failed to get the status of endpoint {ep}: {e}" for ep, e in failed])


@endpoint.command()
@_cluster_option
@click.pass_context
@reports_errors
def health(ctx: click.Context, cluster: bool) -> None:
    """Whether each endpoint serves a linearizable read, and how long it took."""
    checks = asyncio.run(_check_all(make_async_client(ctx, _endpoints(ctx, cluster))))

    def simple() -> None:
        for ep, took_ms, error in checks:
            if error is None:
                click.echo(f"{ep} is healthy: served a linearizable read: took = {took_ms:.1f}ms")
            else:
                click.echo(f"{ep} is unhealthy: {error}")

    def table() -> Table:
        rows = [(ep, str(error is None).lower(), f"{took_ms:.1f}ms", error or "") for ep, took_ms, error in checks]
        return Table(["ENDPOINT", "HEALTH", "TOOK", "ERROR"], rows)

    results = [{"endpoint": ep, "health": error is None, "took_ms": took_ms, "error": error or ""}
               for ep, took_ms, error in checks]
    emit(ctx, results, simple, table)
    _exit_if_failed(ctx, ["unhealthy cluster"] if any(error for *_, error in checks) else [])


def _endpoints(ctx: click.Context, cluster: bool) -> list[str] | None:
    """With ``cluster``, the client endpoints of the member list; else None (the global endpoints)."""
    if not cluster:
        return None
    members = make_client(ctx).member_list().members
    endpoints = [s.member.client for s in members if s.member.client]
    if not endpoints:
        raise click.ClickException("no member has a client endpoint")
    return endpoints


async def _check_all(client: AsyncClient) -> list[tuple[str, float, str | None]]:
    """(endpoint, milliseconds taken, error or None) for each endpoint, checked concurrently."""

    async def check(ep: str) -> tuple[str, float, str | None]:
        start = time.perf_counter()
        try:
            await client.health(ep)
            error = None
        except TandemError as e:
            error = str(e)
        return ep, (time.perf_counter() - start) * 1000, error

    async with client:
        return list(await asyncio.gather(*(check(ep) for ep in client.endpoints)))


def _status_row(ep: str, s: StatusResult) -> list:
    return [s.id, ep, s.member.region, s.member.zone, str(s.is_leader).lower(), str(s.is_learner).lower(), s.term,
            s.commit_index, s.applied_index, s.revision, s.keys, human_bytes(s.db_bytes)]


def _exit_if_failed(ctx: click.Context, errors: list[str]) -> None:
    for error in errors:
        click.echo(f"Error: {error}", err=True)
    if errors:
        ctx.exit(1)
