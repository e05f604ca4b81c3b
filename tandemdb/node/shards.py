"""Which group holds a key. Ranges of keys map to groups; until splits arrive, one range holds every key."""

from __future__ import annotations

from bisect import bisect_right

from .config import DATA_GROUP


class ShardMap:
    def __init__(self, starts: list[tuple[bytes, int]] | None = None) -> None:
        """``starts``: (first key, group) pairs; the first must start at ``b""``."""
        starts = sorted(starts or [(b"", DATA_GROUP)])
        if starts[0][0] != b"":
            raise ValueError("the shard map must cover every key: its first range must start at b''")
        self._keys = [k for k, _ in starts]
        self._groups = [g for _, g in starts]

    def group_of(self, key: bytes) -> int:
        return self._groups[bisect_right(self._keys, key) - 1]

    def groups(self) -> list[int]:
        return sorted(set(self._groups))
