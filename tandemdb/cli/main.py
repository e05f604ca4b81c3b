"""Entry point of the ``tandem`` command: one click group, one module per subcommand family."""

from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from .common import client_options

# Each subcommand is imported when it runs (or when help lists it): `tandem get` need not import the
# simulator, the chaos harness and the benchmarks first.
_COMMANDS = {
    "sim": "sim:sim",
    "chaos": "chaos:chaos",
    "start": "start:start",
    "demo": "demo:demo",
    "bench": "bench:bench",
    "put": "kv:put",
    "get": "kv:get",
    "del": "kv:delete",
    "txn": "txn:txn",
    "watch": "kv:watch",
    "compaction": "kv:compaction",
    "lease": "lease:lease",
    "member": "member:member",
    "move-leader": "member:move_leader",
    "endpoint": "endpoint:endpoint",
    "snapshot": "snapshot:snapshot",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        module, attr = _COMMANDS[name].split(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), attr)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tandem")
@client_options
def cli() -> None:
    """Tandem: a replicated database built on Raft, with the tools that prove it correct."""


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
