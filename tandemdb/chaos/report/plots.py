"""The run's plots (PNG, matplotlib): latency of every op over time, and throughput over time; the windows of
the faults are shaded, one colour per nemesis family."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ...checker.history import Op

STATUS_COLORS = {"ok": "#2a9d5c", "fail": "#d62828", "info": "#f4a259"}
MARKERS = "o^sDvP*X"
FAULT_COLORS = {
    "kill": "#e63946",
    "pause": "#457b9d",
    "partition": "#9d4edd",
    "clock": "#f4a261",
    "link": "#2a9d8f",
    "disk": "#6d597a",
    "member": "#8d99ae",
    "transfer": "#ffb703",
}


def latency(ops: Sequence[Op], faults: list[dict], path: Path) -> None:
    fig = Figure(figsize=(12, 5.5), dpi=100)
    ax = fig.add_subplot()
    kinds = sorted({op.f for op in ops})
    for i, f in enumerate(kinds):
        for status, color in STATUS_COLORS.items():
            points = [(op.invoke, op.latency * 1000) for op in ops if op.f == f and op.status == status and op.latency]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.scatter(
                    xs,
                    ys,
                    s=6,
                    color=color,
                    marker=MARKERS[i % len(MARKERS)],
                    alpha=0.6,
                    linewidths=0,
                    label=f"{f} {status}",
                )
    ax.set_yscale("log")
    ax.set_ylabel("latency (ms)")
    _finish(fig, ax, faults, "Latency of each op (by invocation time)", path)


def rate(ops: Sequence[Op], faults: list[dict], path: Path, bucket_s: float = 1.0) -> None:
    fig = Figure(figsize=(12, 5.5), dpi=100)
    ax = fig.add_subplot()
    series: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for op in ops:
        if op.complete is not None:
            name = f"{op.f} ok" if op.status == "ok" else op.status
            series[name][int(op.complete // bucket_s)] += 1
    end = max((int(op.complete // bucket_s) for op in ops if op.complete is not None), default=0)
    xs = [b * bucket_s for b in range(end + 1)]
    for name in sorted(series):
        color = STATUS_COLORS.get(name)
        ys = [series[name].get(b, 0) / bucket_s for b in range(end + 1)]
        ax.plot(xs, ys, linewidth=1.2, color=color, label=name, linestyle="-" if name.endswith("ok") else "--")
    ax.set_ylabel("ops/s (by completion time)")
    _finish(fig, ax, faults, "Throughput", path)


def _finish(fig: Figure, ax: Axes, faults: list[dict], title: str, path: Path) -> None:
    families: dict[str, str] = {}
    for fault in faults:
        color = FAULT_COLORS.get(fault["nemesis"], "#999999")
        end = fault["end"] if fault["end"] is not None else fault["start"]
        ax.axvspan(fault["start"], max(end, fault["start"] + 0.2), color=color, alpha=0.15, linewidth=0)
        families[fault["nemesis"]] = color
    handles, labels = ax.get_legend_handles_labels()
    handles += [Patch(color=c, alpha=0.3) for c in families.values()]
    labels += [f"fault: {name}" for name in families]
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, markerscale=2)
    ax.set_xlabel("time (s)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
