"""The ``tandem sim`` command: exit codes, failure lines with a replay command, the bug and fault lists."""

from __future__ import annotations

from click.testing import CliRunner

from tandemdb.cli.main import cli
from tandemdb.node.bugs import BUGS
from tandemdb.sim.faults import FAULTS


def run(*args: str):
    return CliRunner().invoke(cli, ["sim", *args])


def test_list_bugs_prints_one_name_per_line_with_description() -> None:
    r = run("--list-bugs")
    assert r.exit_code == 0
    lines = r.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == list(BUGS)  # the node's registry: raft bugs and node bugs
    assert {"stale_follower_read", "ack_before_persist", "forget_vote_on_restart"} <= set(BUGS)
    assert all(len(line.split("\t")[1]) > 10 for line in lines)


def test_list_faults() -> None:
    r = run("--list-faults")
    assert r.exit_code == 0
    assert [line.split("\t")[0] for line in r.output.strip().splitlines()] == list(FAULTS)


def test_passing_seeds_exit_zero_with_summary() -> None:
    r = run("--seeds", "2", "--nodes", "3", "--faults", "all", "--duration", "2s", "--state-machine", "kv", "-j", "1")
    assert r.exit_code == 0, r.output
    assert "2 passed, 0 failed" in r.output and "state machine kv" in r.output


def test_a_caught_bug_exits_one_and_prints_the_replay_command() -> None:
    r = run(
        "--seeds",
        "2",
        "--faults",
        "none",
        "--duration",
        "1s",
        "--bug",
        "ack_before_persist",
        "--knob",
        "max_inflight_msgs=4",
        "-j",
        "1",
    )
    assert r.exit_code == 1, r.output
    assert "FAIL seed" in r.output
    assert "replay: tandem sim --seed" in r.output and "--bug ack_before_persist" in r.output
    assert "--knob max_inflight_msgs=4" in r.output


def test_bad_input_is_a_usage_error() -> None:
    assert run("--faults", "partition,earthquake").exit_code == 2
    assert run("--bug", "no_such_bug").exit_code == 2
    assert run("--duration", "soon").exit_code == 2
    assert run("--trace", "x.txt").exit_code == 2  # a trace needs --seed
    assert run("--state-machine", "ledger").exit_code == 2
    assert run("--knob", "election_ticks").exit_code == 2
    assert run("--knob", "no_such_knob=3").exit_code == 2
    assert run("--knob", "pre_vote=maybe").exit_code == 2
    assert "earthquake" in run("--faults", "earthquake").output
