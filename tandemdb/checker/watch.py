"""The watch checker: what several watchers of one key range received must be one and the same stream of
changes, each watcher seeing its part of it whole.

Each watcher's log (``WatchLog``) holds the events it received, in order, as (revision, key, value), the
revision it asked to start from, and ``covered``: the newest revision a response told it the stream had
reached (every change in range up to it was sent). A watcher that resumes elsewhere after a crash or a
cancel, from its last revision + 1, keeps one log; one that must start over (its start revision was
compacted away) starts a new log.

Checked:

- order: each watcher's revisions never go back, and no revision comes twice (no duplicate);
- agreement: two watchers that both saw a revision saw the same events at it (same keys and values);
- no gap: a revision that some watcher saw lies outside the range [start, covered] of every watcher that did
  not see it. (Revisions without events in the range are invisible to all watchers and cannot be checked.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_REPORTED = 3

WatchEvent = tuple[int, str, Any]  # (revision, key, value); value None for a delete


@dataclass
class WatchLog:
    watcher: str
    start: int
    covered: int = 0
    events: list[WatchEvent] = field(default_factory=list)


@dataclass
class WatchCheck:
    valid: bool = True
    violations: list[str] = field(default_factory=list)  # the first few
    count: int = 0
    revisions: int = 0  # distinct revisions seen by some watcher

    def describe(self) -> str:
        more = f" (and {self.count - len(self.violations)} more)" if self.count > len(self.violations) else ""
        return "; ".join(self.violations) + more


def check(logs: list[WatchLog]) -> WatchCheck:
    res = WatchCheck()
    seen: list[dict[int, tuple[tuple[str, Any], ...]]] = [_revisions(log, res) for log in logs]
    first: dict[int, tuple[int, tuple[tuple[str, Any], ...]]] = {}  # revision -> (log, its events), first seen
    for i, revs in enumerate(seen):
        for rev, evs in sorted(revs.items()):
            known = first.setdefault(rev, (i, evs))
            if known[1] != evs:
                _report(
                    res,
                    f"watch disagreement: at revision {rev} watcher {logs[known[0]].watcher} got {list(known[1])} "
                    f"but watcher {logs[i].watcher} got {list(evs)}",
                )
    res.revisions = len(first)
    for i, log in enumerate(logs):
        hi = max(log.covered, max(seen[i], default=0))
        for rev in sorted(first):
            if log.start <= rev <= hi and rev not in seen[i]:
                _report(
                    res,
                    f"watch gap: watcher {log.watcher} skipped revision {rev} (seen by watcher "
                    f"{logs[first[rev][0]].watcher}) within the range it covered [{log.start}, {hi}]",
                )
    res.valid = res.count == 0
    return res


def _revisions(log: WatchLog, res: WatchCheck) -> dict[int, tuple[tuple[str, Any], ...]]:
    """The watcher's events by revision, checking order and duplicates on the way."""
    out: dict[int, list[tuple[str, Any]]] = {}
    last = 0
    for rev, key, value in log.events:
        if rev < last:
            _report(res, f"watch order: watcher {log.watcher} got revision {rev} after revision {last}")
            continue
        if rev != last and rev in out or (key, value) in out.get(rev, ()):
            _report(res, f"watch duplicate: watcher {log.watcher} got revision {rev} twice")
            continue
        if rev < log.start:
            _report(res, f"watch order: watcher {log.watcher} got revision {rev}, before its start {log.start}")
            continue
        out.setdefault(rev, []).append((key, value))
        last = rev
    return {rev: tuple(evs) for rev, evs in out.items()}


def _report(res: WatchCheck, text: str) -> None:
    res.count += 1
    if len(res.violations) < MAX_REPORTED:
        res.violations.append(text)
