"""``tandem demo`` without a terminal: starts a cluster, writes the endpoints file, serves the CLI, stops all
nodes on SIGTERM; run again on the same directory, it restarts the same cluster with its data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from integration_harness import WAIT_S, wait_until

TANDEM = [sys.executable, "-m", "tandemdb.cli.main"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Demo:
    def __init__(self, root: Path, run: int) -> None:
        self.root = root
        self.out = root.parent / f"demo-{run}.out"
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(
                [*TANDEM, "demo", "--data-dir", str(root), "--tick-ms", "50"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.out.read_text()

    def wait_ready(self) -> list[dict]:
        wait_until(lambda: "console:" in self.output() or self.proc.poll() is not None, "the demo's banner", WAIT_S)
        assert self.proc.poll() is None, self.output()
        return json.loads((self.root / "endpoints.json").read_text())["nodes"]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(WAIT_S)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def tandem(nodes: list[dict], *args: str) -> str:
    endpoints = ",".join(n["endpoint"] for n in nodes)
    args = [*TANDEM, "--endpoints", endpoints, *args]
    result = subprocess.run(args, check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def demos(tmp_path):
    started: list[Demo] = []

    def start(run: int) -> Demo:
        started.append(Demo(tmp_path / "demo", run))
        return started[-1]

    yield start
    for demo in started:
        demo.kill()
        for pid in _node_pids(demo.root):  # a demo killed by the test leaves its nodes behind
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _node_pids(root: Path) -> list[int]:
    try:
        return [n["pid"] for n in json.loads((root / "endpoints.json").read_text())["nodes"] if n["pid"]]
    except (OSError, ValueError):
        return []


@pytest.mark.slow  # two cluster lifetimes and several CLI processes: ~20 s on 2 cores
def test_demo_serves_stops_on_sigterm_and_restarts_with_its_data(demos):
    first = demos(1)
    nodes = first.wait_ready()
    assert [n["id"] for n in nodes] == [1, 2, 3]
    pids = [n["pid"] for n in nodes]
    assert all(_alive(pid) for pid in pids)
    tandem(nodes, "put", "mine", "hello")
    assert tandem(nodes, "get", "mine").splitlines() == ["mine", "hello"]

    assert first.stop() == 0, first.output()
    assert not any(_alive(pid) for pid in pids)
    assert all(n["pid"] is None for n in json.loads((first.root / "endpoints.json").read_text())["nodes"])

    second = demos(2)
    nodes_again = second.wait_ready()
    assert [(n["id"], n["endpoint"]) for n in nodes_again] == [(n["id"], n["endpoint"]) for n in nodes]
    kvs = json.loads(tandem(nodes_again, "-w", "json", "get", "", "--prefix"))["kvs"]
    data = {kv["key"]: (kv["value"], kv["version"]) for kv in kvs}
    assert data["mine"] == ("hello", 1)
    assert data["demo/counter"] == ("3", 3)  # the sample data was loaded once, by the first run
    assert second.stop() == 0, second.output()
