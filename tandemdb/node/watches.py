"""Watches served by this node from its applied state, for any group it hosts.

A watch sees each group's changes in revision order. Because every replica applies the same commands, a
client that reconnects elsewhere and resumes from its last revision + 1 gets no gap and no duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..kv import ErrorResult, Event, KVStore
from ..kv.index import in_span
from ..wire.client_api import WatchCreate, WatchEvents


@dataclass
class Watcher:
    conn: int
    watch_id: int
    group: int
    key: bytes
    range_end: bytes
    prev_kv: bool
    next_revision: int  # the first revision it has not been sent


class WatchHub:
    def __init__(self, max_events: int) -> None:
        self._max_events = max_events
        self._by_key: dict[tuple[int, int], Watcher] = {}  # (conn, watch id) -> watcher

    def create(self, conn: int, watch_id: int, group: int, op: WatchCreate, kv: KVStore) -> list[WatchEvents]:
        """Register the watch; returns its first responses (``created``, then any history asked for)."""
        start = op.start_revision or kv.revision + 1
        w = Watcher(conn, watch_id, group, op.key, op.range_end, op.prev_kv, start)
        history = kv.events(start, op.key, op.range_end, prev_kv=op.prev_kv) if start <= kv.revision else []
        if isinstance(history, ErrorResult):
            return [
                WatchEvents(
                    watch_id,
                    kv.revision,
                    created=True,
                    canceled=True,
                    compact_revision=history.compact_revision,
                    reason=history.message,
                )
            ]
        self._by_key[(conn, watch_id)] = w
        out = [WatchEvents(watch_id, kv.revision, created=True)]
        out.extend(self._batches(w, history, kv.revision))
        w.next_revision = max(w.next_revision, kv.revision + 1)
        return out

    def cancel(self, conn: int, watch_id: int, revision: int, reason: str = "canceled") -> WatchEvents | None:
        w = self._by_key.pop((conn, watch_id), None)
        return None if w is None else WatchEvents(watch_id, revision, canceled=True, reason=reason)

    def drop_connection(self, conn: int) -> None:
        for key in [k for k in self._by_key if k[0] == conn]:
            del self._by_key[key]

    def publish(self, group: int, events: list[Event], revision: int) -> list[tuple[int, WatchEvents]]:
        """Events just applied in ``group`` -> (conn, response) for every watcher they concern."""
        out: list[tuple[int, WatchEvents]] = []
        for w in self._by_key.values():
            if w.group != group:
                continue
            mine = [
                e if w.prev_kv else (Event(e.type, e.kv) if e.prev_kv is not None else e)
                for e in events
                if e.kv.mod_revision >= w.next_revision and in_span(e.kv.key, w.key, w.range_end)
            ]
            w.next_revision = max(w.next_revision, revision + 1)
            out.extend((w.conn, batch) for batch in self._batches(w, mine, revision))
        return out

    def cancel_group(self, group: int, reason: str) -> list[tuple[int, WatchEvents]]:
        """End every watch of ``group`` (the group is gone from this node)."""
        out = []
        for key, w in list(self._by_key.items()):
            if w.group == group:
                del self._by_key[key]
                out.append((w.conn, WatchEvents(w.watch_id, w.next_revision - 1, canceled=True, reason=reason)))
        return out

    def skip_next_revision(self, group: int) -> None:
        """The ``watch_skips_event`` bug: each watcher of ``group`` will miss the next revision's events."""
        for w in self._by_key.values():
            if w.group == group:
                w.next_revision += 1

    def resync(self, group: int, kv: KVStore) -> list[tuple[int, WatchEvents]]:
        """After a snapshot replaced the group's state: send each watcher what it missed, or cancel it."""
        out = []
        for (conn, watch_id), w in list(self._by_key.items()):
            if w.group != group or w.next_revision > kv.revision:
                continue
            missed = kv.events(w.next_revision, w.key, w.range_end, prev_kv=w.prev_kv)
            if isinstance(missed, ErrorResult):
                del self._by_key[(conn, watch_id)]
                out.append(
                    (
                        conn,
                        WatchEvents(
                            watch_id,
                            kv.revision,
                            canceled=True,
                            compact_revision=missed.compact_revision,
                            reason=missed.message,
                        ),
                    )
                )
                continue
            w.next_revision = kv.revision + 1
            out.extend((conn, batch) for batch in self._batches(w, missed, kv.revision))
        return out

    def _batches(self, w: Watcher, events: list[Event], revision: int) -> list[WatchEvents]:
        """Split events into responses of at most ``max_events``, never inside one revision."""
        out: list[WatchEvents] = []
        batch: list[Event] = []
        for e in events:
            if len(batch) >= self._max_events and e.kv.mod_revision != batch[-1].kv.mod_revision:
                out.append(WatchEvents(w.watch_id, revision, batch))
                batch = []
            batch.append(e)
        if batch:
            out.append(WatchEvents(w.watch_id, revision, batch))
        return out
