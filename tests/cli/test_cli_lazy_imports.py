"""Subcommands are imported when used: a client command does not pay for the simulator, chaos or benchmarks."""

from __future__ import annotations

import subprocess
import sys

from tandemdb.cli.main import cli

_CHECK = """
import sys
from tandemdb.cli.main import cli
cli.get_command(None, "get")
heavy = sorted(m for m in sys.modules if m.startswith(("tandemdb.sim", "tandemdb.chaos", "tandemdb.bench")))
assert not heavy, heavy
"""


def test_a_client_command_imports_neither_the_simulator_nor_chaos_nor_benchmarks():
    subprocess.run([sys.executable, "-c", _CHECK], check=True, timeout=60)


def test_every_listed_command_loads_and_unknown_ones_do_not():
    names = cli.list_commands(None)
    assert {"start", "demo", "put", "get", "del", "snapshot", "chaos", "bench", "sim"} <= set(names)
    assert all(cli.get_command(None, name).name == name for name in names)
    assert cli.get_command(None, "nope") is None
    assert "restore" in cli.get_command(None, "snapshot").commands
