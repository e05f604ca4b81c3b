"""The Raft log as one node sees it: the stable part (in ``Storage``) followed by the unstable part (entries
and possibly a snapshot that the application has not yet persisted), plus the commit and applied indices."""

from __future__ import annotations

from .storage import CompactedError, Storage, UnavailableError, limit_size
from .types import Entry, Snapshot


class Unstable:
    """Entries (and a snapshot) handed to the application in Ready but not yet reported durable."""

    __slots__ = ("snapshot", "entries", "offset")

    def __init__(self, offset: int) -> None:
        self.snapshot: Snapshot | None = None
        self.entries: list[Entry] = []
        self.offset = offset  # index of entries[0]

    def maybe_first_index(self) -> int | None:
        return self.snapshot.meta.index + 1 if self.snapshot is not None else None

    def maybe_last_index(self) -> int | None:
        if self.entries:
            return self.offset + len(self.entries) - 1
        if self.snapshot is not None:
            return self.snapshot.meta.index
        return None

    def maybe_term(self, i: int) -> int | None:
        if i < self.offset:
            if self.snapshot is not None and self.snapshot.meta.index == i:
                return self.snapshot.meta.term
            return None
        last = self.maybe_last_index()
        if last is None or i > last:
            return None
        return self.entries[i - self.offset].term

    def stable_to(self, i: int, t: int) -> None:
        term = self.maybe_term(i)
        # Only when the term matches: otherwise the entry was replaced after this Ready was taken.
        if term == t and i >= self.offset:
            del self.entries[: i + 1 - self.offset]
            self.offset = i + 1

    def stable_snap_to(self, i: int) -> None:
        if self.snapshot is not None and self.snapshot.meta.index == i:
            self.snapshot = None

    def restore(self, snap: Snapshot) -> None:
        self.offset = snap.meta.index + 1
        self.entries = []
        self.snapshot = snap

    def truncate_and_append(self, ents: list[Entry]) -> None:
        after = ents[0].index
        if after == self.offset + len(self.entries):
            self.entries.extend(ents)
        elif after <= self.offset:
            # Replace everything unstable; the application overwrites the conflicting stable suffix too.
            self.offset = after
            self.entries = list(ents)
        else:
            del self.entries[after - self.offset :]
            self.entries.extend(ents)

    def slice(self, lo: int, hi: int) -> list[Entry]:
        return self.entries[lo - self.offset : hi - self.offset]


class RaftLog:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        first, last = storage.first_index(), storage.last_index()
        self.unstable = Unstable(last + 1)
        self.committed = first - 1  # everything in a snapshot is committed
        self.applied = first - 1

    # -- positions ---------------------------------------------------------------------------------------------
    def first_index(self) -> int:
        i = self.unstable.maybe_first_index()
        return i if i is not None else self.storage.first_index()

    def last_index(self) -> int:
        i = self.unstable.maybe_last_index()
        return i if i is not None else self.storage.last_index()

    def stable_last_index(self) -> int:
        """The last index the application has reported durable."""
        return min(self.storage.last_index(), self.unstable.offset - 1)

    def term(self, i: int) -> int | None:
        """The term at ``i``, or None when ``i`` is compacted or beyond the log."""
        if i < self.first_index() - 1 or i > self.last_index():
            return None
        t = self.unstable.maybe_term(i)
        if t is not None:
            return t
        try:
            return self.storage.term(i)
        except (CompactedError, UnavailableError):
            return None

    def last_term(self) -> int:
        t = self.term(self.last_index())
        assert t is not None
        return t

    def match_term(self, i: int, t: int) -> bool:
        return self.term(i) == t

    def is_up_to_date(self, last_index: int, term: int) -> bool:
        """Raft §5.4.1: a candidate's log is at least as up to date as ours."""
        lt = self.last_term()
        return term > lt or (term == lt and last_index >= self.last_index())

    # -- appending ---------------------------------------------------------------------------------------------
    def append(self, ents: list[Entry]) -> int:
        if ents:
            if ents[0].index - 1 < self.committed:
                raise AssertionError(f"appending at {ents[0].index} would overwrite committed {self.committed}")
            self.unstable.truncate_and_append(ents)
        return self.last_index()

    def find_conflict(self, ents: list[Entry]) -> int:
        """Index of the first entry that is new or whose term differs from ours (0 if none): §5.3."""
        last = self.last_index()
        for e in ents:
            if e.index > last or not self.match_term(e.index, e.term):
                return e.index
        return 0

    def maybe_append(
        self,
        index: int,
        log_term: int,
        committed: int,
        ents: list[Entry],
        truncate_always: bool = False,
    ) -> int | None:
        """Accept an append whose previous entry is (index, log_term); return the new last index or None."""
        if not self.match_term(index, log_term):
            return None
        last_new = index + len(ents)
        if truncate_always and ents:
            conflict = ents[0].index  # bug switch: drop our suffix even where it matches
        else:
            conflict = self.find_conflict(ents)
        if conflict:
            if conflict <= self.committed:
                raise AssertionError(f"entry {conflict} conflicts with committed entry (committed {self.committed})")
            self.append(ents[conflict - index - 1 :])
        # Only what this append proved we share with the leader may be committed (§5.3, step 5).
        self.commit_to(min(committed, last_new))
        return last_new

    def find_conflict_by_term(self, index: int, term: int) -> tuple[int, int]:
        """The largest index <= ``index`` whose term is <= ``term``, and that term (fast backtracking, §5.3).

        Terms never decrease along a log, so a binary search finds it.
        """
        lo = self.first_index() - 1
        if index < lo:
            return index, 0
        t = self.term(index)
        if t is None or t <= term:
            return index, t or 0
        hi = index  # term(hi) > term; find the largest i in [lo, hi) with term(i) <= term
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if mid == hi:
                break
            tm = self.term(mid)
            if tm is not None and tm <= term:
                lo = mid
            else:
                hi = mid
        t = self.term(lo)
        if t is None or t > term:
            return lo, 0
        return lo, t

    # -- reading -----------------------------------------------------------------------------------------------
    def slice(self, lo: int, hi: int, max_bytes: int | None = None) -> list[Entry] | None:
        """Entries in [lo, hi), size-limited; None when ``lo`` is compacted."""
        if lo < self.first_index():
            return None
        hi = min(hi, self.last_index() + 1)
        if lo >= hi:
            return []
        ents: list[Entry] = []
        off = self.unstable.offset
        if lo < off:
            try:
                ents = self.storage.entries(lo, min(hi, off), max_bytes)
            except CompactedError:
                return None
            if len(ents) < min(hi, off) - lo:
                return ents  # the size limit stopped us inside storage
        if hi > off:
            ents = ents + self.unstable.slice(max(lo, off), hi)
        return limit_size(ents, max_bytes)

    def entries_from(self, lo: int, max_bytes: int | None = None) -> list[Entry] | None:
        return self.slice(lo, self.last_index() + 1, max_bytes)

    def snapshot(self) -> Snapshot:
        if self.unstable.snapshot is not None:
            return self.unstable.snapshot
        return self.storage.snapshot()

    # -- commit and apply --------------------------------------------------------------------------------------
    def commit_to(self, index: int) -> None:
        if index > self.committed:
            if index > self.last_index():
                raise AssertionError(f"commit index {index} beyond last index {self.last_index()}")
            self.committed = index

    def maybe_commit(self, index: int, term: int, any_term: bool = False) -> bool:
        """Commit up to ``index`` only if that entry is of the current ``term`` (§5.4.2, Figure 8)."""
        if index > self.committed and (any_term or self.term(index) == term):
            self.commit_to(index)
            return True
        return False

    def has_next_committed(self, applying: int) -> bool:
        return self.committed > applying

    def next_committed(self, applying: int, max_bytes: int) -> list[Entry]:
        lo = max(applying + 1, self.first_index())
        ents = self.slice(lo, self.committed + 1, max_bytes)
        assert ents is not None, "committed entries must not be compacted before they are applied"
        return ents

    def applied_to(self, index: int) -> None:
        if index:
            if index > self.committed or index < self.applied:
                raise AssertionError(f"applied {index} out of range [{self.applied}, {self.committed}]")
            self.applied = index

    def restore(self, snap: Snapshot) -> None:
        self.committed = snap.meta.index
        self.unstable.restore(snap)
