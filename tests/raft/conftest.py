"""Options for the consensus-layer tests: ``pytest tests/raft --rewrite`` regenerates the expected outputs of
the data-driven scripts under ``testdata/raft/`` (read them afterwards: a rewrite records, it proves nothing)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # ``import raft_harness`` whatever the import mode


def pytest_addoption(parser):
    parser.addoption(
        "--rewrite",
        action="store_true",
        default=False,
        help="record the actual outputs of the testdata/raft scripts as their expected outputs",
    )
