"""Importing the storage layer imports no thread machinery: its only threads live in ``tandemdb.storage.threads``,
which the server shell and the tools import, never the simulator (it runs the WAL in one thread)."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import tandemdb

# Two imports of `threading` are not ours and are taken out of the check:
# - site's .pth hooks (an editable install's finder, CA-bundle hooks) may import it before any user code: the
#   child runs with -S, and finds its packages through PYTHONPATH instead;
# - crc32c's __init__ imports importlib.metadata (for its __version__), which imports zipfile, which imports
#   threading: it is imported first, then threading is blocked, so any later import of it fails loudly with the
#   importer in the traceback.
_CHECK = """
import sys
import crc32c
sys.modules["threading"] = None
import tandemdb.storage
threads = sorted(m for m in sys.modules if m.startswith("tandemdb.storage.threads"))
assert not threads, threads
"""


def test_importing_storage_imports_no_threading():
    root = str(Path(tandemdb.__file__).resolve().parent.parent)
    packages = [*site.getsitepackages(), site.getusersitepackages()]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *packages])}
    subprocess.run([sys.executable, "-S", "-c", _CHECK], env=env, check=True, timeout=60)


def test_the_threads_are_imported_from_their_own_package():
    from tandemdb.storage.threads import GroupCommitter, SpareSegments

    assert GroupCommitter.__module__ == "tandemdb.storage.threads.group_commit"
    assert SpareSegments.__module__ == "tandemdb.storage.threads.spare_segments"
