"""``tandem bench``: Tandem next to etcd and PySyncObj, each a local 3-node cluster with durable writes, under the
same workload, concurrency and value size, in one run (see BENCHMARKS.md)."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import click

from ..bench.systems import SYSTEMS
from ..bench.workloads import WORKLOADS
from .durations import Duration


def _names(known: dict[str, str]) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    def convert(ctx: click.Context, param: click.Parameter, value: str) -> list[str]:
        names = list(known) if value == "all" else [v.strip() for v in value.split(",") if v.strip()]
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise click.BadParameter(f"expected a comma-separated list of {', '.join(known)} (or all)")
        return names

    return convert


def _counts(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        counts = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise click.BadParameter("expected positive numbers separated by commas, e.g. 1,16,64")
    return counts


@click.command()
@click.option("--workload", "workloads", default="write", show_default=True, callback=_names(WORKLOADS),
              help=f"Comma-separated, or all: {', '.join(WORKLOADS)}.")
@click.option("--clients", callback=_counts, metavar="N[,N...]",
              help="Concurrent clients (operations in flight) [default: 1,16,64,256 for write, 64 otherwise].")
@click.option("--duration", type=Duration(), default="10s", show_default=True, help="Measured time of each run.")
@click.option("--systems", default="tandem,etcd,pysyncobj", show_default=True, callback=_names(SYSTEMS),
              help="Comma-separated, or all.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results here; the plots go beside it.")
@click.option("--plots", "plots_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the PNG plots [default: that of --json; none without either].")
@click.option("--value-size", default=100, show_default=True, type=click.IntRange(1), help="Bytes per value.")
@click.option("--generators", default=2, show_default=True, type=click.IntRange(1),
              help="Load generator processes per run, latencies merged.")
@click.option("--python-clients", is_flag=True,
              help="Drive every system from the Python load generator, even where a native client could be built "
                   "(Go clientv3 for etcd).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the clusters keep their data (a real disk: fsync is the point) [default: the temp dir].")
def bench(
    workloads: list[str],
    clients: list[int] | None,
    duration: float,
    systems: list[str],
    json_path: Path | None,
    plots_dir: Path | None,
    value_size: int,
    generators: int,
    python_clients: bool,
    data_dir: Path | None,
) -> None:
    """Benchmark Tandem against etcd and PySyncObj: throughput, p50/p99/p99.9 latency, CPU per 1,000 operations."""
    try:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from ..bench import machine, plots, report
        from ..bench.runner import Plan, run_plan
    except ImportError as e:
        raise click.ClickException(f"{e}: install the benchmark extras with pip install 'tandemdb[bench]'") from None

    plan = Plan(systems, workloads, clients, duration, value_size, generators, not python_clients, data_dir)
    load_before = os.getloadavg()
    columns = (TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("starting", total=plan.total_seconds())
        try:
            runs, versions = run_plan(plan, lambda seconds, what: progress.update(task, advance=seconds,
                                                                                 description=what))
        except RuntimeError as e:
            raise click.ClickException(str(e)) from None
    rows = [run.row() for run in runs]
    info = machine.describe(data_dir, versions, load_before)
    out = Console(highlight=False)
    out = out if out.is_terminal else Console(highlight=False, width=160)
    report.print_report(out, rows, info)
    for run in runs:
        if run.errors:
            out.print(f"  {run.system} {run.workload.name} x{run.clients}: {run.errors} failed attempts, "
                      f"first: {run.first_error}")
    if json_path is not None:
        report.write_json(json_path, rows, info, "tandem " + shlex.join(sys.argv[1:]))
        out.print(f"  results: {json_path}")
    plots_dir = plots_dir or (json_path.parent if json_path is not None else None)
    if plots_dir is not None:
        prefix = json_path.stem if json_path is not None else "bench"
        for path in plots.write_plots(runs, plots_dir, prefix):
            out.print(f"  plot: {path}")
