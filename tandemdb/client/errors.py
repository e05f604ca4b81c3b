"""What the client raises. Every exception is a ``TandemError`` with a ``kind``: the wire ``ErrorKind`` value
when a node said so, or the client's own reason (``"unavailable"``, ``"timeout"``, ``"kv"``)."""

from __future__ import annotations

from ..kv.results import ErrorCode, ErrorResult
from ..wire.client_api import Error, ErrorKind


class TandemError(Exception):
    def __init__(self, message: str, kind: str = ErrorKind.INTERNAL) -> None:
        super().__init__(message)
        self.kind = str(kind)


class ClusterUnavailableError(TandemError):
    """No endpoint answered the request in time; it was never accepted by a node."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorKind.UNAVAILABLE)


class RequestTimeoutError(TandemError):
    """The request reached a node but no answer came in time: a write may or may not have been applied."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorKind.TIMEOUT)


class BadRequestError(TandemError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorKind.BAD_REQUEST)


class NotFoundError(TandemError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorKind.NOT_FOUND)


class KVError(TandemError):
    """The state machine rejected the command as a whole; nothing of it was applied."""

    def __init__(self, message: str, code: ErrorCode, revision: int = 0, compact_revision: int = 0) -> None:
        super().__init__(message, "kv")
        self.code = code
        self.revision = revision
        self.compact_revision = compact_revision


class CompactedError(KVError):
    """The revision asked for is compacted; ``compact_revision`` is the oldest one still available."""


def from_reply(error: Error, endpoint: str) -> TandemError:
    """The exception for an ``Error`` reply that is not worth retrying."""
    message = f"{endpoint}: {error.message}"
    if error.kind == ErrorKind.BAD_REQUEST:
        return BadRequestError(message)
    if error.kind == ErrorKind.NOT_FOUND:
        return NotFoundError(message)
    return TandemError(message, error.kind)


def from_result(result: ErrorResult) -> KVError:
    cls = CompactedError if result.code == ErrorCode.COMPACTED else KVError
    return cls(f"{result.code}: {result.message}", result.code, result.revision, result.compact_revision)
