"""Short chaos runs against real clusters: kill, partition and pause under the register and bank workloads must
come out valid, with every artefact written; a known bug (a follower that serves stale reads) must come out
invalid. Network namespaces are used when the machine allows, as ``tandem chaos`` does.

The verdicts do not depend on timing: a correct cluster gives a valid history however slow the machine, and
the bug shows within seconds because followers apply a write a moment after the leader acknowledges it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tandemdb.chaos import ChaosConfig, run
from tandemdb.checker.history import from_jsonl
from tandemdb.cli.chaos import chaos
from tandemdb.node.bugs import BUGS

NEMESES = ["kill", "partition", "pause"]


def _run(tmp_path, workload: str, seed: int, time_s: float, **options):
    cfg = ChaosConfig(workload=workload, nemeses=NEMESES, seed=seed, time_s=time_s, quiet_s=3.0,
                      out=tmp_path / "run", **options)  # fmt: skip
    return run(cfg)


def _artefacts_written(result) -> None:
    out = result.out
    for name in ("history.jsonl", "results.json", "latency.png", "rate.png", "timeline.html"):
        assert (out / name).stat().st_size > 0, name
    ops = from_jsonl((out / "history.jsonl").read_bytes())
    assert ops and {op.status for op in ops} <= {"ok", "fail", "info"}
    assert all(op.complete is not None and op.complete >= op.invoke for op in ops)
    saved = json.loads((out / "results.json").read_text())
    assert saved["valid"] == result.valid and saved["net"]["mode"] in ("netns", "loopback")
    assert (out / "latency.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(("workload", "seed"), [("register", 27), ("bank", 28)])  # seeds drawing all three
def test_short_run_with_kill_partition_and_pause_is_valid(tmp_path, workload, seed):
    result = _run(tmp_path, workload, seed, time_s=12.0)
    explanation = result.results["checker"].get("explanation", "")
    assert result.valid is True, (result.results["crashes"], result.results["recovery"], explanation)
    assert result.exit_code == 0
    assert result.results["faults"], "the nemesis injected no fault"
    assert all(f["end"] is not None for f in result.results["faults"])
    assert result.results["recovery"]["final_reads"]
    _artefacts_written(result)


def test_stale_follower_reads_are_caught(tmp_path):
    result = _run(tmp_path, "register", 11, time_s=6.0, bug="stale_follower_read")
    assert result.valid is False and result.exit_code == 1
    assert result.results["checker"]["failures"]
    assert "not linearizable" in result.results["checker"]["explanation"]


def test_list_bugs_prints_the_debug_switches():
    result = CliRunner().invoke(chaos, ["--list-bugs"])
    assert result.exit_code == 0
    names = [line.split("\t")[0] for line in result.output.splitlines()]
    assert names == list(BUGS) and "stale_follower_read" in names
