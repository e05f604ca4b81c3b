"""The KV state machine stays pure: it imports nothing that can reach a clock, the OS or randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import tandemdb.kv

ALLOWED = {"__future__", "bisect", "collections", "enum", "math", "msgspec", "operator", "typing"}


def test_kv_imports_only_pure_modules():
    for path in Path(tandemdb.kv.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"
        assert "open(" not in path.read_text(), path.name
