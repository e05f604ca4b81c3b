"""What the numbers came from: the machine, its load, the disk the clusters wrote to, the software versions."""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import psutil


def describe(data_dir: Path | None, versions: dict[str, str], load_before: tuple[float, float, float]) -> dict:
    data_dir = Path(data_dir or tempfile.gettempdir()).resolve()
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "data_dir": str(data_dir),
        "filesystem": _filesystem(data_dir),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "tandem_commit": _commit(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _filesystem(path: Path) -> str:
    """The type of the mount holding ``path`` (fsync on tmpfs proves nothing)."""
    best = max(
        (p for p in psutil.disk_partitions(all=True) if path.is_relative_to(p.mountpoint)),
        key=lambda p: len(p.mountpoint),
        default=None,
    )
    return f"{best.fstype} ({best.device})" if best else "unknown"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"
