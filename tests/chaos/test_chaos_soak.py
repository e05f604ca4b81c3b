"""Long chaos runs through the command line, excluded from the default suite (``pytest -m slow``): the known
bug is caught on several seeds and a correct cluster passes the same runs; every nemesis under every workload
passes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def chaos(tmp_path, *args: str) -> tuple[int, dict]:
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "tandemdb.cli.main", "chaos", "--out", str(out), *args],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    assert proc.returncode in (0, 1, 2), proc.stderr[-2000:]
    return proc.returncode, results


BASE = ["--time", "30s", "--workload", "register", "--nemesis", "kill,pause,partition"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_stale_follower_read_bug_exits_1(tmp_path, seed):
    code, results = chaos(tmp_path, *BASE, "--seed", str(seed), "--bug", "stale_follower_read")
    assert code == 1 and results["checker"]["failures"]


@pytest.mark.parametrize("seed", [1, 2])
def test_same_runs_without_the_bug_exit_0(tmp_path, seed):
    code, results = chaos(tmp_path, *BASE, "--seed", str(seed))
    assert code == 0, results.get("checker", {}).get("explanation")


@pytest.mark.parametrize("workload", ["register", "bank", "append"])
def test_every_nemesis_under_each_workload(tmp_path, workload):
    code, results = chaos(tmp_path, "--time", "90s", "--workload", workload, "--nemesis", "all", "--seed", "5")
    assert code == 0, (results.get("crashes"), results.get("checker", {}).get("explanation"))
    assert len({f["nemesis"] for f in results["faults"]}) >= 4
