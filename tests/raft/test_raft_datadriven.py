"""Data-driven interaction tests: every script under ``testdata/raft/`` is run by ``raft_harness`` and its
output compared with the expected output recorded in the script (format: see ``raft_harness``'s docstring)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raft_harness import run_script

TESTDATA = Path(__file__).resolve().parents[2] / "testdata" / "raft"
SCRIPTS = sorted(TESTDATA.glob("*.txt"))


def test_scripts_exist():
    assert len(SCRIPTS) >= 8, SCRIPTS


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script(path: Path, request: pytest.FixtureRequest):
    rewrite = request.config.getoption("--rewrite", default=False)
    mismatches = run_script(path, rewrite=rewrite)
    if mismatches:
        command, expected, actual = mismatches[0]
        pytest.fail(
            f"{path.name}: {len(mismatches)} command(s) differ; first: {command!r}\n"
            f"--- expected\n{expected}\n--- actual\n{actual}\n"
            "(run `pytest tests/raft --rewrite` to record the new behaviour, then read the diff)",
            pytrace=False,
        )
