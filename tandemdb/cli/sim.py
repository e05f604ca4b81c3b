"""``tandem sim``: run the deterministic simulator over many seeds, or replay one seed with a trace."""

from __future__ import annotations

import sys
import time

import click

from ..node.bugs import BUGS
from ..sim.faults import FAULTS, parse_faults
from ..sim.simulation import KNOBS, SimConfig
from ..sim.workload import WORKLOADS
from .durations import parse_seconds
from .sim_pool import default_jobs, run_seeds


def parse_knobs(specs: tuple[str, ...]) -> dict[str, int | bool]:
    """``NAME=VALUE`` pairs: VALUE an integer, or true/false."""
    knobs: dict[str, int | bool] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        name = name.strip()
        if not sep or name not in KNOBS:
            raise ValueError(f"bad knob {spec!r}: use NAME=VALUE with NAME one of {', '.join(KNOBS)}")
        value = text.strip().lower()
        if value in ("true", "false"):
            knobs[name] = value == "true"
        elif value.lstrip("-").isdigit():
            knobs[name] = int(value)
        else:
            raise ValueError(f"bad knob value {spec!r}: an integer, true or false")
    return knobs


def _replay_command(
    seed: int, nodes: int, faults: str, duration: str, bug: str | None, sm: str, knobs: tuple[str, ...]
) -> str:
    cmd = f"tandem sim --seed {seed} --nodes {nodes} --faults {faults} --duration {duration}"
    if sm != "kv":
        cmd += f" --state-machine {sm}"
    for knob in knobs:
        cmd += f" --knob {knob}"
    if bug:
        cmd += f" --bug {bug}"
    return cmd + " --trace trace.txt"


@click.command()
@click.option("--seeds", type=click.IntRange(min=1), default=20, show_default=True, help="How many seeds to run.")
@click.option("--first-seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed to start from.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Run (replay) this one seed only.")
@click.option("--nodes", type=click.Choice(["3", "5"]), default="3", show_default=True)
@click.option(
    "--faults",
    default="all",
    show_default=True,
    help=f"Comma list of faults, 'all' or 'none'. Faults: {', '.join(FAULTS)}.",
)
@click.option("--duration", default="10s", show_default=True, help="Simulated time per seed, before the final heal.")
@click.option(
    "--state-machine",
    "state_machine",
    type=click.Choice(sorted(WORKLOADS)),
    default="kv",
    show_default=True,
    help="The state machine the clients use, with its workload and checker.",
)
@click.option(
    "--knob",
    "knobs",
    multiple=True,
    metavar="NAME=VALUE",
    help=f"Pin a per-seed node knob (repeatable): {', '.join(KNOBS)}.",
)
@click.option("--bug", default=None, help="Turn on one known-bug switch (see --list-bugs). For self-tests only.")
@click.option("--list-bugs", is_flag=True, help="Print the known-bug switches and exit.")
@click.option("--list-faults", is_flag=True, help="Print the fault kinds and exit.")
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="With --seed: write the run's event trace to this file.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failing seed.")
def sim(
    seeds: int,
    first_seed: int,
    seed: int | None,
    nodes: str,
    faults: str,
    duration: str,
    state_machine: str,
    knobs: tuple[str, ...],
    bug: str | None,
    list_bugs: bool,
    list_faults: bool,
    trace_file: str | None,
    jobs: int | None,
    fail_fast: bool,
) -> None:
    """Simulate clusters of real Tandem nodes under faults, checking safety after every step and the clients'
    history at the end.

    Exit status: 0 when every seed passes, 1 when any seed fails, 2 on bad usage.
    """
    if list_bugs:
        for name, text in BUGS.items():
            click.echo(f"{name}\t{text}")
        return
    if list_faults:
        for name, text in FAULTS.items():
            click.echo(f"{name}\t{text}")
        return
    try:
        fault_set = parse_faults(faults)
        duration_us = int(parse_seconds(duration) * 1_000_000)
        knob_values = parse_knobs(knobs)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if bug is not None and bug not in BUGS:
        raise click.UsageError(f"unknown bug {bug!r}; see tandem sim --list-bugs")
    if trace_file and seed is None:
        raise click.UsageError("--trace needs --seed (a trace is of one run)")
    bugs = frozenset([bug]) if bug else frozenset()
    seed_list = [seed] if seed is not None else list(range(first_seed, first_seed + seeds))
    configs = [
        SimConfig(
            seed=s,
            nodes=int(nodes),
            faults=fault_set,
            duration_us=duration_us,
            bugs=bugs,
            state_machine=state_machine,
            knobs=knob_values,
            trace=bool(trace_file),
        )
        for s in seed_list
    ]
    started = time.perf_counter()
    failed: list[int] = []
    sim_us = events = ops = 0
    n_run = 0
    for r in run_seeds(configs, jobs=jobs or default_jobs(), stop_on_failure=fail_fast):
        n_run += 1
        sim_us += r.sim_time_us
        events += r.events
        ops += r.ops
        if trace_file:
            with open(trace_file, "w", encoding="utf-8") as f:
                f.write("\n".join(r.trace) + "\n")
        if not r.ok:
            failed.append(r.seed)
            click.echo(f"FAIL seed {r.seed}: {r.error.strip()}")
            click.echo(f"  replay: {_replay_command(r.seed, int(nodes), faults, duration, bug, state_machine, knobs)}")
    wall = time.perf_counter() - started
    click.echo(
        f"{n_run - len(failed)} passed, {len(failed)} failed: {n_run} seeds, {int(nodes)} nodes, faults={faults}, "
        f"state machine {state_machine}{', bug=' + bug if bug else ''}; {sim_us / 1e6:.0f} s simulated in "
        f"{wall:.1f} s wall ({sim_us / 1e6 / wall if wall else 0:.1f}x), {events} events, {ops} client ops"
    )
    sys.exit(1 if failed else 0)
