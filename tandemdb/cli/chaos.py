"""``tandem chaos``: a Jepsen-style run against a real local cluster (see docs/chaos.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..node.bugs import BUGS
from .durations import Duration

NEMESIS_NAMES = ("kill", "pause", "partition", "clock", "link", "disk", "member", "transfer")


def _nemeses(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
    names = [n.strip() for n in value.split(",") if n.strip()]
    if names == ["all"]:
        return list(NEMESIS_NAMES)
    if names == ["none"]:
        return []
    unknown = sorted(set(names) - set(NEMESIS_NAMES))
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; choose from {', '.join(NEMESIS_NAMES)}, all or none")
    return names


def _list_bugs(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        for name, text in BUGS.items():
            click.echo(f"{name}\t{text}")
        ctx.exit(0)


@click.command()
@click.option("--nodes", type=click.Choice(["3", "5"]), default="3", show_default=True, help="Cluster size.")
@click.option(
    "--time", "duration", type=Duration(), default="60s", show_default=True, help="Length of the fault phase (30s, 5m)."
)
@click.option("--workload", type=click.Choice(["register", "bank", "append"]), default="register", show_default=True)
@click.option(
    "--nemesis",
    "nemeses",
    default="kill,pause,partition",
    show_default=True,
    callback=_nemeses,
    help=f"Comma-separated: {', '.join(NEMESIS_NAMES)}; or all, or none.",
)
@click.option("--seed", type=int, default=None, help="Seed of the fault schedule and the workload (random if unset).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The run's folder (default: chaos-runs/<time>-<workload>-<seed>).",
)
@click.option(
    "--bug",
    type=click.Choice(sorted(BUGS)),
    default=None,
    metavar="NAME",
    help="Debug only: start every node with this known bug on (see --list-bugs).",
)
@click.option(
    "--list-bugs",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list_bugs,
    help="Print the names of the debug-only bug switches and exit.",
)
@click.option(
    "--net",
    type=click.Choice(["auto", "netns", "loopback"]),
    default="auto",
    show_default=True,
    help="Network namespaces with iptables partitions, or loopback with the transport fault hook.",
)
@click.option("--concurrency", type=click.IntRange(1, 100), default=10, show_default=True, help="Client workers.")
@click.option(
    "--quiet", "quiet", type=Duration(), default="10s", show_default=True,
    help="Quiet phase after every fault is healed.",
)
def chaos(
    nodes: str,
    duration: float,
    workload: str,
    nemeses: list[str],
    seed: int | None,
    out: Path | None,
    bug: str | None,
    net: str,
    concurrency: int,
    quiet: float,
) -> None:
    """Run a workload against a real local cluster while nemeses inject faults, then check the history.

    Exit status: 0 valid, 1 invalid, 2 unknown (a checker ran out of time, or the run could not be carried out).
    """
    from rich.console import Console

    from ..chaos import ChaosConfig, ChaosError, run
    from ..chaos.progress import Progress
    from ..chaos.report.summary import render

    cfg = ChaosConfig(
        nodes=int(nodes),
        time_s=duration,
        workload=workload,
        nemeses=nemeses,
        seed=seed,
        out=out,
        bug=bug,
        net=net,
        concurrency=concurrency,
        quiet_s=quiet,
    )
    console = Console()
    try:
        result = run(cfg, Progress(console))
    except ChaosError as e:
        click.echo(f"Error: {e}", err=True)
        sys.exit(2)
    render(result.results, console)
    sys.exit(result.exit_code)
