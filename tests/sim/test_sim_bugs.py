"""Every known-bug switch of the node (``tandemdb.node.bugs.BUGS``: the consensus core's and the node's own)
must be caught by the simulator, by the violation that bug causes, within a few seeds of a fault schedule
aimed at it.

A catch is a failing seed whose error is the expected violation: an exception in the node is not a catch,
nor is another violation, nor an undecided linearizability check. The failing seed must replay the same
failure. Each schedule below catches its bug in several of its first ten seeds (see docs/simulator.md), so a
small change in how the simulator draws its numbers does not lose the catch; a regression in the
simulator's power shows up as a failed test here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner

from tandemdb.cli.main import cli
from tandemdb.node.bugs import BUGS
from tandemdb.sim.faults import parse_faults
from tandemdb.sim.simulation import SimConfig, run_seed

SEED_BOUND = 10  # seeds tried per bug (--fail-fast stops at the first catch)


@dataclass(frozen=True)
class Schedule:
    nodes: int
    faults: str
    duration: str
    expect: str  # regex: the violations this bug causes
    knobs: dict[str, object] = field(default_factory=dict)
    state_machine: str = "kv"


NOT_LINEARIZABLE = r"^history is not linearizable"
SCHEDULES: dict[str, Schedule] = {
    # Acknowledging before the write is durable lets a leader count a copy that a crash would lose.
    "ack_before_persist": Schedule(3, "none", "2s", r"^(unsafe commit|durability):"),
    # Figure 8: divergent tails from leaders isolated at once; one entry per append, so that a follower
    # acknowledges an old-term entry before the new leader's own.
    "commit_previous_term": Schedule(
        3, "partition", "10s", r"^(unsafe commit|state machine safety):", {"max_size_per_msg": 1}
    ),
    # Replies are lost with the messages: clients resend their writes, same session, to another node; the copy
    # applied again shows as a counter above the sum of every add attempted.
    "duplicate_retry": Schedule(
        3, "loss", "5s", r"^counter out of bounds: (read|add) .* above the upper bound", state_machine="counter"
    ),
    # Crash traps restart a voter right after it voted; delayed requests of a rival candidate then reach it.
    "forget_vote_on_restart": Schedule(5, "crash,delay", "10s", r"^(vote safety|election safety):"),
    # A leader cut off by a partition answers reads from its stale state (it keeps leading without CheckQuorum).
    "stale_leader_read": Schedule(3, "partition", "10s", NOT_LINEARIZABLE, {"check_quorum": False}),
    "stale_follower_read": Schedule(3, "partition", "5s", NOT_LINEARIZABLE),
    # Delayed appends of one entry each leave a node behind in applying; a ReadIndex read (leases off) that it
    # answers once confirmed, before applying up to the read index, returns an old value.
    "read_before_apply": Schedule(
        3, "delay", "5s", NOT_LINEARIZABLE, {"lease_reads": False, "max_size_per_msg": 1}
    ),
    # Reordered and duplicated appends: an old append cuts off entries the follower had acknowledged.
    "truncate_matching_suffix": Schedule(3, "delay,duplicate", "10s", r"^(durability|unsafe commit):"),
    # Leadership moves often; the watchers that stay on a node miss a revision that watchers resuming elsewhere
    # (from their last revision + 1) get.
    "watch_skips_event": Schedule(3, "transfer", "5s", r"^watch gap: watcher w\d+ skipped revision \d+"),
    # A voter that ignores logs elects a leader that lacks committed entries.
    "vote_without_log_check": Schedule(
        5, "partition,crash", "10s", r"^(leader completeness|state machine safety|unsafe commit):"
    ),
}


def test_every_bug_has_a_schedule() -> None:
    assert sorted(SCHEDULES) == sorted(BUGS)


@pytest.mark.parametrize("bug", sorted(BUGS))
def test_simulator_catches_known_bug(bug: str) -> None:
    s = SCHEDULES[bug]
    args = [
        "sim",
        "--bug",
        bug,
        "--nodes",
        str(s.nodes),
        "--faults",
        s.faults,
        "--duration",
        s.duration,
        "--seeds",
        str(SEED_BOUND),
        "--fail-fast",
        "-j",
        "1",
    ]
    if s.state_machine != "kv":
        args += ["--state-machine", s.state_machine]
    for name, value in s.knobs.items():
        args += ["--knob", f"{name}={str(value).lower()}"]
    out = CliRunner().invoke(cli, args).output
    m = re.search(r"^FAIL seed (\d+): (.*)$", out, re.MULTILINE)
    assert m, f"the simulator did not catch {bug} in {SEED_BOUND} seeds:\n{out}"
    seed, error = int(m.group(1)), m.group(2)
    assert not error.startswith("exception"), f"{bug}: seed {seed} raised instead of catching a violation: {out}"
    assert re.search(s.expect, error), f"{bug}: seed {seed} failed with another violation than expected: {error}"
    assert f"--bug {bug}" in out and f"replay: tandem sim --seed {seed}" in out
    if s.state_machine != "kv":
        assert f"--state-machine {s.state_machine}" in out
    # The failing seed replays the same failure.
    cfg = SimConfig(
        seed=seed,
        nodes=s.nodes,
        faults=parse_faults(s.faults),
        bugs=frozenset([bug]),
        knobs=s.knobs,
        state_machine=s.state_machine,
        duration_us=int(float(s.duration.rstrip("s")) * 1_000_000),
    )
    again = run_seed(cfg)
    assert not again.ok and again.error.splitlines()[0] == error
