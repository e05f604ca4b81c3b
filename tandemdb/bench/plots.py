"""PNG plots of a benchmark: throughput by concurrency, latency CDFs, and for failover runs the completed writes
over time around the leader kill. One panel per workload, one line per system (and client count)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

from .runner import Run  # noqa: E402

BUCKET_S = 0.1
STYLES = ("-", "--", ":", "-.")  # one per client count; the colour is the system's
COLUMNS = 3
CDF_POINTS = 2000  # a CDF line is drawn through this many quantiles


def write_plots(runs: list[Run], directory: Path, prefix: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    by_workload: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_workload[run.workload.name].append(run)
    paths = [directory / f"{prefix}-throughput.png", directory / f"{prefix}-latency-cdf.png"]
    _throughput(by_workload, paths[0])
    _latency_cdf(by_workload, paths[1])
    failovers = [run for run in runs if run.killed_at is not None]
    if failovers:
        paths.append(directory / f"{prefix}-failover.png")
        _failover(failovers, paths[-1])
    return paths


def _panels(count: int, title: str) -> tuple[Figure, list[Axes]]:
    """A figure of ``count`` panels, at most ``COLUMNS`` a row; returns the figure and the panels in use."""
    cols = min(count, COLUMNS)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(max(8, 5.5 * cols), 4.5 * rows), squeeze=False)
    fig.suptitle(title)
    flat = list(axes.flat)
    for unused in flat[count:]:
        unused.set_visible(False)
    return fig, flat[:count]


def _colours(runs: list[Run]) -> dict[str, str]:
    systems = sorted({run.system for run in runs})
    return {system: f"C{i}" for i, system in enumerate(systems)}


def _throughput(by_workload: dict[str, list[Run]], path: Path) -> None:
    fig, axes = _panels(len(by_workload), "throughput by concurrency")
    colours = _colours([run for runs in by_workload.values() for run in runs])
    for ax, (workload, runs) in zip(axes, by_workload.items(), strict=True):
        by_system: dict[str, list[Run]] = defaultdict(list)
        for run in runs:
            by_system[run.system].append(run)
        for system, system_runs in by_system.items():
            system_runs.sort(key=lambda r: r.clients)
            ax.plot([r.clients for r in system_runs], [len(r.latencies) / r.duration for r in system_runs],
                    marker="o", color=colours[system], label=system)
        counts = sorted({run.clients for run in runs})
        ax.set_xscale("log", base=2)
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set(title=workload, xlabel="concurrent clients", ylabel="operations/s")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)


def _latency_cdf(by_workload: dict[str, list[Run]], path: Path) -> None:
    fig, axes = _panels(len(by_workload), "latency CDF")
    colours = _colours([run for runs in by_workload.values() for run in runs])
    for ax, (workload, runs) in zip(axes, by_workload.items(), strict=True):
        counts = sorted({run.clients for run in runs})
        for run in sorted(runs, key=lambda r: (r.system, r.clients)):
            ms = run.latencies.sorted_ms()
            if ms:
                ranks = sorted({len(ms) * k // CDF_POINTS for k in range(1, CDF_POINTS + 1)} - {0})
                ax.plot([ms[r - 1] for r in ranks], [r / len(ms) for r in ranks], color=colours[run.system],
                        linestyle=STYLES[counts.index(run.clients) % len(STYLES)],
                        label=f"{run.system} x{run.clients}")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set(title=workload, xlabel="latency (ms)", ylabel="fraction of operations")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    _save(fig, path)


def _failover(runs: list[Run], path: Path) -> None:
    fig, axes = _panels(1, "failover: writes completed per 100 ms")
    ax = axes[0]
    colours = _colours(runs)
    for run in runs:
        lat = run.latencies
        buckets = [0] * (int((lat.window_end - lat.window_start) / BUCKET_S) + 1)
        for end in lat.ends:
            buckets[int((end - lat.window_start) / BUCKET_S)] += 1
        colour = colours[run.system]
        times = [i * BUCKET_S for i in range(len(buckets))]
        ax.plot(times, buckets, color=colour, label=f"{run.system} x{run.clients}")
        if run.killed_at is not None:  # every run plotted here had its leader killed
            ax.axvline(run.killed_at - lat.window_start, color=colour, linestyle="--")
    ax.set(xlabel="seconds into the measured window (dashed: leader SIGKILLed)", ylabel="writes completed")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
