"""Server processes of the peers that have no ``LocalCluster``: started in their own session with output to a
log file, killed at the end whatever happened."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from . import System

T = TypeVar("T")


class ServerProcesses:
    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def spawn(self, name: str, cmd: list[str], log: Path) -> None:
        with open(log, "ab") as out:
            self.procs[name] = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.logs[name] = log

    def pid(self, name: str) -> int | None:
        proc = self.procs[name]
        return proc.pid if proc.poll() is None else None

    def pids(self) -> list[int]:
        return [pid for name in self.procs if (pid := self.pid(name)) is not None]

    def kill(self, name: str) -> float:
        """SIGKILL one process; returns the ``time.monotonic()`` of the signal."""
        killed_at = time.monotonic()
        self.procs[name].kill()
        self.procs[name].wait()
        return killed_at

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs.values():
            proc.wait()

    def wait_for(self, probe: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
        """Poll ``probe`` until it returns something; raises with the logs' tails if a process exits or time
        runs out."""
        deadline = time.monotonic() + timeout
        while True:
            for name, proc in self.procs.items():
                if proc.poll() is not None and proc.returncode > 0:
                    raise RuntimeError(f"{name} exited with status {proc.returncode}:\n{self.tail(name)}")
            result = probe()
            if result is not None:
                return result
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n} ---\n{self.tail(n)}" for n in self.procs)
                raise RuntimeError(f"no {what} after {timeout:.0f} s\n{tails}")
            time.sleep(0.05)

    def tail(self, name: str, lines: int = 15) -> str:
        try:
            return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class ProcessSystem(System):
    """A peer run as plain server processes: ``procs`` holds them by name, ``clients`` their client endpoints
    by the same names, and ``leader()`` names the current leader."""

    procs: ServerProcesses
    clients: dict[str, str]

    def leader(self) -> str:
        raise NotImplementedError

    def client_spec(self) -> dict:
        first = self.clients[self.leader()]
        return {"endpoints": [first] + [e for e in self.clients.values() if e != first]}

    def server_pids(self) -> list[int]:
        return self.procs.pids()

    def kill_leader(self) -> float:
        return self.procs.kill(self.leader())

    def stop(self) -> None:
        self.procs.kill_all()
