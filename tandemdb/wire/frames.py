"""Length-prefixed frames: a 4-byte big-endian payload length, then the payload.

``FrameDecoder`` turns a byte stream into whole payloads. A length above ``max_frame`` is a protocol error,
raised before anything is buffered, so a bad or hostile peer cannot make a node allocate without bound.
"""

from __future__ import annotations

import struct

HEADER = 4
_unpack_header = struct.Struct(">I").unpack_from
DEFAULT_MAX_FRAME = 64 << 20


class FrameError(Exception):
    """The stream is not a valid sequence of frames; the connection must be closed."""


def encode_frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(HEADER, "big") + payload


class FrameDecoder:
    __slots__ = ("max_frame", "_buf", "_need")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()  # the start of a frame not yet complete
        self._need = 0  # bytes the buffer must hold before a frame can complete

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the payloads now complete, in order."""
        if self._buf:
            self._buf += data  # a large frame arrives in many pieces: gather them without re-parsing
            if len(self._buf) < self._need:
                return []
            data = bytes(self._buf)
            self._buf = bytearray()
        end = len(data)
        out = []
        pos = 0
        need = HEADER
        while end - pos >= HEADER:
            (size,) = _unpack_header(data, pos)
            if size > self.max_frame:
                raise FrameError(f"frame of {size} bytes exceeds the limit of {self.max_frame}")
            start = pos + HEADER
            if end - start < size:
                need = HEADER + size
                break
            out.append(data[start : start + size])
            pos = start + size
        if pos < end:
            self._buf = bytearray(data[pos:])
            self._need = need
        return out

    @property
    def buffered(self) -> int:
        return len(self._buf)
