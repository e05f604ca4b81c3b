"""Fixtures of the storage-layer tests."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # ``import wal_harness`` whatever the import mode

from tandemdb.storage import SimDisk  # noqa: E402


@pytest.fixture
def sim_disk() -> SimDisk:
    return SimDisk(random.Random(1))
