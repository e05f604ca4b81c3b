"""The simulator in the normal test suite: seeds under every fault and under each fault alone must pass, a
fault-free cluster serves every operation, a seed replays byte for byte (also across processes), and an
undecided linearizability check is a failure, never a pass. Known bugs: ``test_sim_bugs.py``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tandemdb.sim.faults import FAULTS, parse_faults
from tandemdb.sim.simulation import SimConfig, Simulation, run_seed

ALL = frozenset(FAULTS)


def _failures(configs: list[SimConfig]) -> list[str]:
    return [f"seed {r.seed}: {r.error}" for r in map(run_seed, configs) if not r.ok]


@pytest.mark.parametrize("nodes", [3, 5])
@pytest.mark.parametrize("chunk", range(8))
def test_seeds_pass_under_all_faults(nodes: int, chunk: int) -> None:
    """16 chunks x 10 seeds = 160 seeds of 5 simulated seconds each (plus the final heal)."""
    seeds = range(1000 + chunk * 10, 1000 + (chunk + 1) * 10)
    configs = [SimConfig(seed=s, nodes=nodes, faults=ALL, duration_us=5_000_000) for s in seeds]
    assert _failures(configs) == []


@pytest.mark.parametrize("faults", sorted(FAULTS))
def test_each_fault_alone(faults: str) -> None:
    configs = [SimConfig(seed=s, nodes=5, faults=parse_faults(faults), duration_us=5_000_000) for s in range(4)]
    assert _failures(configs) == []


@pytest.mark.parametrize("nodes", [3, 5])
def test_counter_seeds_pass_under_all_faults(nodes: int) -> None:
    """The counter workload (Jepsen's counter checker): 8 seeds x 2 cluster sizes, every fault."""
    configs = [
        SimConfig(seed=s, nodes=nodes, faults=ALL, duration_us=5_000_000, state_machine="counter")
        for s in range(2000, 2008)
    ]
    assert _failures(configs) == []


def test_fault_free_counter_cluster_serves_every_operation() -> None:
    r = run_seed(SimConfig(seed=3, nodes=3, duration_us=3_000_000, state_machine="counter"))
    assert r.ok, r.error
    assert r.ops > 100 and r.ops == r.ops_ok


def test_fault_free_cluster_serves_every_operation() -> None:
    r = run_seed(SimConfig(seed=3, nodes=3, duration_us=5_000_000))
    assert r.ok, r.error
    assert r.ops > 100 and r.ops == r.ops_ok  # no fault: every operation completes


def test_an_undecided_linearizability_check_is_a_failure(monkeypatch) -> None:
    monkeypatch.setattr(Simulation, "linearizability_steps", 5)
    r = run_seed(SimConfig(seed=3, nodes=3, duration_us=1_000_000))
    assert not r.ok
    assert "linearizability unknown" in r.error and "not a pass" in r.error


def test_a_seed_replays_identically() -> None:
    a = run_seed(SimConfig(seed=7, nodes=5, faults=ALL, duration_us=3_000_000, trace=True))
    b = run_seed(SimConfig(seed=7, nodes=5, faults=ALL, duration_us=3_000_000, trace=True))
    assert a.ok, a.error
    assert a.trace == b.trace and len(a.trace) > 1000


def test_trace_files_are_byte_identical_across_processes(tmp_path) -> None:
    """Different hash seeds in different processes must not change the run (no set/dict order leaks)."""
    outs = []
    for hashseed in ("1", "2"):
        out = tmp_path / f"trace{hashseed}.txt"
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        cmd = [
            sys.executable,
            "-m",
            "tandemdb.cli.main",
            "sim",
            "--seed",
            "7",
            "--nodes",
            "5",
            "--faults",
            "all",
            "--duration",
            "2s",
            "--trace",
            str(out),
        ]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and len(outs[0]) > 10_000


def test_knobs_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown knobs"):
        Simulation(SimConfig(seed=1, knobs={"no_such_knob": 1}))
    with pytest.raises(ValueError, match="check_quorum"):
        Simulation(SimConfig(seed=1, knobs={"lease_reads": True, "check_quorum": False}))
