"""The key index: every key's versions in revision order, and the keys in sorted order for range scans."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from operator import attrgetter

from .results import KeyValue

mod_revision = attrgetter("mod_revision")
_INSORT_MAX = 64  # fewer new keys than this are inserted one by one, more are merged by a sort


def in_span(k: bytes, key: bytes, range_end: bytes) -> bool:
    """Whether ``k`` lies in the key range of ``key`` and ``range_end`` (see ``commands``)."""
    if not range_end:
        return k == key
    return key <= k and (range_end == b"\0" or k < range_end)


class KeyIndex:
    """``versions[key]`` lists the key's kept versions, oldest first, tombstones included; it is never empty.

    A deleted-then-recreated key starts a new generation: its create revision restarts and version is 1 again.
    New keys wait in ``_new`` until a scan needs the sorted order, so that writing many new keys stays cheap.
    """

    __slots__ = ("versions", "_sorted", "_new")

    def __init__(self) -> None:
        self.versions: dict[bytes, list[KeyValue]] = {}
        self._sorted: list[bytes] = []
        self._new: list[bytes] = []

    def create(self, key: bytes) -> list[KeyValue]:
        """The (empty) version list of a key not in the index yet, to append its first version to."""
        versions = self.versions[key] = []
        self._new.append(key)
        return versions

    def latest(self, key: bytes) -> KeyValue | None:
        versions = self.versions.get(key)
        if versions is None:
            return None
        kv = versions[-1]
        return kv if kv.version else None

    def at(self, key: bytes, revision: int) -> KeyValue | None:
        """The key's live version as of ``revision`` (which must not be compacted), or None."""
        versions = self.versions.get(key)
        if versions is None:
            return None
        kv = versions[-1]
        if kv.mod_revision > revision:
            i = bisect_right(versions, revision, key=mod_revision)
            if not i:
                return None
            kv = versions[i - 1]
        return kv if kv.version else None

    def keys(self, key: bytes, range_end: bytes) -> list[bytes]:
        """The indexed keys in the range, sorted (some may be deleted at the revision of interest)."""
        if not range_end:
            return [key] if key in self.versions else []
        keys = self._sorted_keys()
        hi = len(keys) if range_end == b"\0" else bisect_left(keys, range_end)
        return keys[bisect_left(keys, key) : hi]

    def compact(self, keys: Iterable[bytes], revision: int) -> int:
        """Drop the versions of ``keys`` that ``revision`` hides, and keys left with nothing; returns bytes freed."""
        freed = 0
        gone: set[bytes] = set()
        for key in keys:
            versions = self.versions[key]
            i = bisect_right(versions, revision, key=mod_revision)
            if not i:
                continue
            keep = i - 1 if versions[i - 1].version else i  # a tombstone at or before ``revision`` goes too
            for kv in versions[:keep]:
                freed += len(kv.key) + len(kv.value)
            del versions[:keep]
            if not versions:
                del self.versions[key]
                gone.add(key)
        if gone:
            self._sorted = [k for k in self._sorted_keys() if k not in gone]
        return freed

    def _sorted_keys(self) -> list[bytes]:
        new = self._new
        if new:
            if len(new) < _INSORT_MAX:
                for key in new:
                    insort(self._sorted, key)
            else:
                self._sorted += new
                self._sorted.sort()
            new.clear()
        return self._sorted
