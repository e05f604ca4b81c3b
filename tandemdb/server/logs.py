"""A node process's logging: one JSON object per line (the default) or plain text, on stderr.

Every line carries the node id; the node's events (elections, membership changes) also carry their group and
term, passed as ``extra={"group": ..., "term": ..., "event": ...}``.
"""

from __future__ import annotations

import json
import logging
import sys
import time

FORMATS = ("json", "text")
_EXTRA_FIELDS = ("group", "term", "event")


class JsonFormatter(logging.Formatter):
    def __init__(self, node_id: int) -> None:
        super().__init__()
        self.node_id = node_id

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "node": self.node_id,
            "msg": record.getMessage(),
        }
        for key in _EXTRA_FIELDS:
            if key in record.__dict__:
                line[key] = record.__dict__[key]
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line)


def setup_logging(level: str, fmt: str, node_id: int) -> None:
    """Send every log record to stderr, as JSON lines or text."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(node_id))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s node {node_id} %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
