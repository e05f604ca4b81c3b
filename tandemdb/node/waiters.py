"""Who is waiting for an answer: a client connection and request id, with the tick it gives up at."""

from __future__ import annotations

from typing import NamedTuple


class Waiter(NamedTuple):
    conn: int
    req: int
    deadline: int  # the node tick at which it gets TIMEOUT
    trace: str = ""  # the traceparent of a traced request (tracing on), else empty
