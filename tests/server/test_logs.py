"""The node's log lines: JSON objects carrying the node id, and the group and term of node events."""

from __future__ import annotations

import json
import logging
import sys

from tandemdb.node.events import leader_event
from tandemdb.server.logs import JsonFormatter, setup_logging


def _record(msg: str, **extra) -> logging.LogRecord:
    record = logging.LogRecord("tandemdb.server", logging.INFO, __file__, 1, msg, (), None)
    record.__dict__.update(extra)
    return record


def test_a_node_event_logs_as_json_with_node_group_and_term() -> None:
    event = leader_event(1, 7, 3)
    line = JsonFormatter(2).format(_record(event.message, event=event.kind, group=event.group, term=event.term))
    assert json.loads(line) | {"ts": "-"} == {
        "ts": "-", "level": "info", "logger": "tandemdb.server", "node": 2,
        "msg": "group 1: leader is node 3 (term 7)", "event": "leader", "group": 1, "term": 7,
    }


def test_other_lines_carry_the_node_id_and_any_exception() -> None:
    try:
        raise OSError("disk gone")
    except OSError:
        record = logging.LogRecord("tandemdb.server", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info())
    line = json.loads(JsonFormatter(5).format(record))
    assert line["node"] == 5 and line["msg"] == "failed x" and line["level"] == "error"
    assert "OSError: disk gone" in line["exc"] and "group" not in line


def test_text_format_names_the_node(capsys) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("info", "text", 4)
        logging.getLogger("tandemdb.server").info("hello")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert " INFO node 4 tandemdb.server: hello" in capsys.readouterr().err
