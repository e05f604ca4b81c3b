import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1] / "client"))  # the fake node of the client tests

from fake_node import Background, FakeCluster
from tandemdb.cli.main import cli


@pytest.fixture
def background():
    background = Background()
    yield background
    background.close()


@pytest.fixture
def cluster(background):
    """Three fake nodes (node 1 leads) serving from a background event loop."""
    cluster = FakeCluster(3)
    background.run(cluster.start())
    yield cluster
    background.run(cluster.stop())


@pytest.fixture
def tandem(cluster):
    """Run ``tandem --endpoints <the followers> ARGS``; returns the click Result."""

    def run(*args: str, input: bytes | str | None = None, endpoints: str | None = None):
        endpoints = endpoints or ",".join(cluster.endpoints[:0:-1])
        return CliRunner().invoke(cli, ["--endpoints", endpoints, "--command-timeout", "3s", *args], input=input)

    return run
