"""What ``tandemdb.sim`` may contain: deterministic, single-process code that runs the product's node.

- no clock, thread, process pool or unseeded randomness (the process pool lives in ``cli/sim_pool.py``);
- no private copy of the node: it imports ``tandemdb.node.Node``, and only ``sim/views.py`` looks inside one.
"""

from __future__ import annotations

import re
from pathlib import Path

import tandemdb.sim

SIM = Path(tandemdb.sim.__file__).parent
SOURCES = sorted(SIM.glob("*.py"))

FORBIDDEN_IMPORTS = ("time", "datetime", "threading", "concurrent", "multiprocessing", "asyncio", "secrets", "uuid")


def _imports(text: str) -> set[str]:
    found = set(re.findall(r"^\s*import ([\w.]+)", text, re.MULTILINE))
    found |= set(re.findall(r"^\s*from ([\w.]+) import", text, re.MULTILINE))
    return {name.split(".")[0] for name in found}


def test_sim_holds_only_deterministic_single_process_code() -> None:
    for path in SOURCES:
        text = path.read_text()
        bad = _imports(text) & set(FORBIDDEN_IMPORTS)
        assert not bad, f"{path.name} imports {sorted(bad)}"
        # Randomness only from a seeded generator handed down from the simulation's one.
        assert not re.search(r"random\.(random|randint|choice|shuffle|sample|uniform|randrange)\(", text), path.name
        assert "Random()" not in text, path.name


def test_sim_runs_the_product_node_and_keeps_no_copy_of_it() -> None:
    names = {p.name for p in SOURCES}
    assert "kvsm.py" not in names and "node.py" not in names and "runner.py" not in names
    assert "from ..node import Node" in (SIM / "views.py").read_text()
    assert "Node(" in (SIM / "host.py").read_text()
    for path in SOURCES:
        if path.name == "views.py":
            continue
        text = path.read_text()
        assert not re.search(r"\.replicas\b|\.rn\b|RawNode|rawnode", text), f"{path.name} reaches into the node"
