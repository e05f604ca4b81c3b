"""Durations on the command line: '30s', '500ms', '2m', '1m30s', or a plain number of seconds."""

from __future__ import annotations

import re
from typing import Any

import click

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:us|ms|s|m)?)+")
_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m)?")


def parse_seconds(text: str) -> float:
    """Seconds in ``text``; raises ``ValueError`` for anything that is not a positive duration."""
    t = text.strip().lower()
    if not _WHOLE.fullmatch(t):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 500ms, 2m or 1m30s)")
    seconds = sum(float(number) * _UNITS[unit or "s"] for number, unit in _PART.findall(t))
    if seconds <= 0:
        raise ValueError(f"a duration must be positive: {text!r}")
    return seconds


class Duration(click.ParamType):
    """A click option type giving seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_seconds(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)
