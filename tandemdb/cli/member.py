"""``tandem member list|add|remove|promote`` and ``tandem move-leader``. Member ids are decimal."""

from __future__ import annotations

import click

from ..wire.client_api import MemberResult, MemberStatus
from .common import Table, emit, make_client, reports_errors

_HEADERS = ["ID", "PEER ADDR", "CLIENT ADDR", "HTTP URL", "REGION", "ZONE", "IS LEARNER"]


@click.group()
def member() -> None:
    """Cluster membership."""


@member.command("list")
@click.pass_context
@reports_errors
def list_(ctx: click.Context) -> None:
    """List the members: id, peer address, client address, HTTP URL, region, zone, is learner."""
    result = make_client(ctx).member_list()

    def simple() -> None:
        for status in result.members:
            click.echo(", ".join(str(cell) for cell in _row(status)))

    emit(ctx, result, simple, lambda: Table(_HEADERS, [_row(s) for s in result.members]))


@member.command()
@click.argument("member_id", metavar="ID_OR_0", type=click.IntRange(min=0))
@click.option("--peer-urls", "peer", required=True, help="host:port the other nodes reach it at.")
@click.option("--learner/--voter", default=True, show_default=True,
              help="Join as a learner (promote it once caught up) or straight as a voter.")
@click.option("--client", default="", help="host:port of its client port.")
@click.option("--http", default="", help="URL of its HTTP API.")
@click.option("--region", default="", help="Region label.")
@click.option("--zone", default="", help="Zone label.")
@click.pass_context
@reports_errors
def add(ctx: click.Context, member_id: int, peer: str, learner: bool, client: str, http: str, region: str,
        zone: str) -> None:
    """Add a member with id ID_OR_0 (0: the next free id); then start it with ``tandem start --join``."""
    result = make_client(ctx).member_add(peer, learner=learner, id=member_id, client=client, http=http,
                                         region=region, zone=zone)
    role = "a learner" if learner else "a voter"
    emit(ctx, result, lambda: click.echo(f"Member {result.member.id} added to cluster as {role}"),
         lambda: _members_table(result))


@member.command()
@click.argument("member_id", metavar="ID", type=click.IntRange(min=1))
@click.pass_context
@reports_errors
def remove(ctx: click.Context, member_id: int) -> None:
    """Remove member ID."""
    result = make_client(ctx).member_remove(member_id)
    emit(ctx, result, lambda: click.echo(f"Member {member_id} removed from cluster"), lambda: _members_table(result))


@member.command()
@click.argument("member_id", metavar="ID", type=click.IntRange(min=1))
@click.pass_context
@reports_errors
def promote(ctx: click.Context, member_id: int) -> None:
    """Make learner ID a voter (refused until it has caught up)."""
    result = make_client(ctx).member_promote(member_id)
    emit(ctx, result, lambda: click.echo(f"Member {member_id} promoted in cluster"), lambda: _members_table(result))


@click.command("move-leader")
@click.argument("target", metavar="ID", type=click.IntRange(min=1))
@click.pass_context
@reports_errors
def move_leader(ctx: click.Context, target: int) -> None:
    """Hand the leadership over to member ID."""
    result = make_client(ctx).move_leader(target)
    emit(ctx, result, lambda: click.echo(f"Leadership transferred to member {target}"))


def _row(status: MemberStatus) -> list:
    m = status.member
    return [m.id, m.peer, m.client, m.http, m.region, m.zone, str(status.learner).lower()]


def _members_table(result: MemberResult) -> Table:
    return Table(_HEADERS, [_row(s) for s in result.members])
