"""The only threads of the storage layer: ``GroupCommitter`` writes and fdatasyncs the write-ahead log for the
whole node, ``SpareSegments`` zero-fills its next segment ahead of time.

The server shell and the tools (benchmarks, crash writers) use them; the simulator never does: it drives the
``WAL`` directly on a ``SimDisk``, in one thread. No other module of ``tandemdb.storage`` imports ``threading``,
and ``tandemdb.storage`` does not import this package (``tests/storage/test_storage_imports.py`` checks it).
"""

from .group_commit import GroupCommitter
from .spare_segments import SpareSegments

__all__ = ["GroupCommitter", "SpareSegments"]
