"""CPU time of the server processes, sampled: a process that dies (the killed leader) keeps its last sample."""

from __future__ import annotations

import psutil


class CpuMeter:
    def __init__(self, pids: list[int]) -> None:
        self.procs = [psutil.Process(pid) for pid in pids]
        self.last: dict[int, float] = {}

    def sample(self) -> float:
        """User plus system seconds of every process so far."""
        for proc in self.procs:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            self.last[proc.pid] = times.user + times.system
        return sum(self.last.values())
