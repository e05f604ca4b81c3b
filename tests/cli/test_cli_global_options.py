"""Client options may follow the command, as etcdctl allows (`tandem get k -w json`)."""

from __future__ import annotations

from tandemdb.cli.main import hoist_global_options


def test_client_options_after_the_command_are_moved_in_front() -> None:
    args = ["get", "k", "-w", "json", "--endpoints=h:1", "--prefix", "--command-timeout", "3s"]
    hoisted = ["-w", "json", "--endpoints=h:1", "--command-timeout", "3s", "get", "k", "--prefix"]
    assert hoist_global_options(args) == hoisted


def test_values_after_a_double_dash_are_left_alone() -> None:
    assert hoist_global_options(["put", "--", "k", "-w"]) == ["put", "--", "k", "-w"]
