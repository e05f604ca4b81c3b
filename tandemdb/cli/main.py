"""Entry point of the ``tandem`` command: one click group, one module per subcommand family."""

from __future__ import annotations

import click

from .. import __version__
from .sim import sim


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tandem")
def cli() -> None:
    """Tandem: a replicated database built on Raft, with the tools that prove it correct."""


cli.add_command(sim)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
