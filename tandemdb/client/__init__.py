"""The Python client of Tandem: ``AsyncClient`` (asyncio) and ``Client`` (blocking), with leader redirects,
retries within a timeout, idempotent writes, and watches that resume across node failures.

    with Client("127.0.0.1:2379,127.0.0.1:2479") as c:
        c.put("greeting", "hello")
        print(c.get("greeting").kvs[0].value)
"""

from ..kv.commands import Compare, DeleteRange, Put, Range
from .async_client import AsyncClient
from .errors import (
    BadRequestError,
    ClusterUnavailableError,
    CompactedError,
    KVError,
    NotFoundError,
    RequestTimeoutError,
    TandemError,
)
from .sync_client import Client, SyncWatch
from .watch import Watch

__all__ = [
    "AsyncClient",
    "BadRequestError",
    "Client",
    "ClusterUnavailableError",
    "CompactedError",
    "Compare",
    "DeleteRange",
    "KVError",
    "NotFoundError",
    "Put",
    "Range",
    "RequestTimeoutError",
    "SyncWatch",
    "TandemError",
    "Watch",
]
