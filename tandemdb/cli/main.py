"""Entry point of the ``tandem`` command: one click group, one module per subcommand family."""

from __future__ import annotations

import sys

import click

from .. import __version__
from .bench import bench
from .chaos import chaos
from .common import client_options
from .demo import demo
from .endpoint import endpoint
from .kv import compaction, delete, get, put, watch
from .lease import lease
from .member import member, move_leader
from .sim import sim
from .snapshot import snapshot
from .snapshot_restore import restore
from .start import start
from .txn import txn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tandem")
@client_options
def cli() -> None:
    """Tandem: a replicated database built on Raft, with the tools that prove it correct."""


cli.add_command(sim)
cli.add_command(chaos)
cli.add_command(start)
cli.add_command(demo)
cli.add_command(bench)
for command in (put, get, delete, txn, watch, compaction, lease, member, move_leader, endpoint, snapshot):
    cli.add_command(command)
snapshot.add_command(restore)


# The client options belong to the group, but etcdctl users also write them after the command
# (`tandem get k -w json`); they are moved in front before click parses the line.
_GLOBAL_OPTIONS = ("--endpoints", "--dial-timeout", "--command-timeout", "--write-out", "-w")


def hoist_global_options(args: list[str]) -> list[str]:
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg.split("=", 1)[0] in _GLOBAL_OPTIONS:
            take = 1 if "=" in arg else 2
            front += args[i : i + take]
            i += take
            continue
        rest.append(arg)
        i += 1
    return front + rest


def main() -> None:
    cli(hoist_global_options(sys.argv[1:]), prog_name="tandem")


if __name__ == "__main__":
    main()
