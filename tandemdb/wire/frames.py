"""Length-prefixed frames: a 4-byte big-endian payload length, then the payload.

``FrameDecoder`` turns a byte stream into whole payloads. A length above ``max_frame`` is a protocol error,
raised before anything is buffered, so a bad or hostile peer cannot make a node allocate without bound.
"""

from __future__ import annotations

HEADER = 4
DEFAULT_MAX_FRAME = 64 << 20


class FrameError(Exception):
    """The stream is not a valid sequence of frames; the connection must be closed."""


def encode_frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(HEADER, "big") + payload


class FrameDecoder:
    __slots__ = ("max_frame", "_buf")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the payloads now complete, in order."""
        buf = self._buf
        buf += data
        out = []
        pos = 0
        end = len(buf)
        while end - pos >= HEADER:
            size = int.from_bytes(buf[pos : pos + HEADER], "big")
            if size > self.max_frame:
                raise FrameError(f"frame of {size} bytes exceeds the limit of {self.max_frame}")
            if end - pos - HEADER < size:
                break
            out.append(bytes(buf[pos + HEADER : pos + HEADER + size]))
            pos += HEADER + size
        if pos:
            del buf[:pos]
        return out

    @property
    def buffered(self) -> int:
        return len(self._buf)
