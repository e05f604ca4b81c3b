"""The store against a simple model (key -> list of (revision, value or None)) over random puts, deletes,
txns, compactions and snapshot restores: latest reads, reads at past revisions and event streams agree."""

from __future__ import annotations

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tandemdb.kv import (
    Compact,
    Compare,
    DeleteRange,
    ErrorCode,
    ErrorResult,
    EventType,
    KVStore,
    Put,
    Range,
    Txn,
)

KEYS = [b"a", b"ab", b"b", b"c", b"\xff"]
ENDS = [b"", b"\0", b"ab", b"b", b"d"]
keys = st.sampled_from(KEYS)
values = st.sampled_from([b"", b"1", b"2", b"xyz"])


def in_range(k: bytes, key: bytes, end: bytes) -> bool:
    return k == key if not end else key <= k and (end == b"\0" or k < end)


class Model:
    def __init__(self) -> None:
        self.revision = 0
        self.compacted = 0
        self.history: dict[bytes, list[tuple[int, bytes | None]]] = {k: [] for k in KEYS}
        self.events: list[tuple[int, EventType, bytes, bytes, bytes | None]] = []  # rev, type, key, value, prev

    def value(self, key: bytes, revision: int) -> bytes | None:
        past = [v for r, v in self.history[key] if r <= revision]
        return past[-1] if past else None

    def kv(self, key: bytes, revision: int) -> tuple | None:
        """(key, value, create, mod, version) as of ``revision``."""
        past = [(r, v) for r, v in self.history[key] if r <= revision]
        if not past or past[-1][1] is None:
            return None
        generation = []
        for r, v in reversed(past):
            if v is None:
                break
            generation.append(r)
        return key, past[-1][1], generation[-1], generation[0], len(generation)

    def write(self, key: bytes, value: bytes | None, revision: int) -> None:
        prev = self.value(key, revision)
        self.history[key].append((revision, value))
        kind = EventType.PUT if value is not None else EventType.DELETE
        self.events.append((revision, kind, key, value if value is not None else b"", prev))

    def live(self, key: bytes, end: bytes) -> list[bytes]:
        return [k for k in KEYS if in_range(k, key, end) and self.value(k, self.revision) is not None]


class KVAgainstModel(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.store = KVStore()
        self.model = Model()

    def apply(self, cmd):
        results, events = self.store.apply([cmd])
        return results[0], events

    def check_batch_events(self, events, first: int) -> None:
        assert [_event(e) for e in events] == self.model.events[first:]

    @rule(key=keys, value=values)
    def put(self, key, value):
        first = len(self.model.events)
        result, events = self.apply(Put(key, value))
        self.model.revision += 1
        self.model.write(key, value, self.model.revision)
        assert result.revision == self.model.revision
        self.check_batch_events(events, first)

    @rule(key=keys, end=st.sampled_from(ENDS))
    def delete(self, key, end):
        first = len(self.model.events)
        result, events = self.apply(DeleteRange(key, end))
        doomed = self.model.live(key, end)
        if doomed:
            self.model.revision += 1
            for k in doomed:
                self.model.write(k, None, self.model.revision)
        assert result.deleted == len(doomed) and result.revision == self.model.revision
        self.check_batch_events(events, first)

    @rule(
        key=keys,
        expected=values,
        success=st.lists(st.tuples(keys, st.none() | values), max_size=3, unique_by=lambda op: op[0]),
        failure=st.lists(st.tuples(keys, st.none() | values), max_size=3, unique_by=lambda op: op[0]),
    )
    def txn(self, key, expected, success, failure):
        """Compare a value; each branch puts (value) or deletes (None) distinct single keys."""

        def ops(branch):
            return [Put(k, v) if v is not None else DeleteRange(k) for k, v in branch] + [Range(b"\0", b"\0")]

        first = len(self.model.events)
        result, events = self.apply(Txn([Compare(key, "value", "==", expected)], ops(success), ops(failure)))
        model = self.model
        succeeded = model.value(key, model.revision) == expected
        branch = success if succeeded else failure
        writes = [(k, v) for k, v in branch if v is not None or model.value(k, model.revision) is not None]
        if writes:
            model.revision += 1
            for k, v in writes:
                model.write(k, v, model.revision)
        assert result.succeeded == succeeded and result.revision == model.revision
        read = result.responses[-1]
        expected = [(k, model.value(k, model.revision)) for k in model.live(b"\0", b"\0")]
        assert [(kv.key, kv.value) for kv in read.kvs] == expected
        self.check_batch_events(events, first)

    @precondition(lambda self: self.model.revision > self.model.compacted)
    @rule(data=st.data())
    def compact(self, data):
        target = data.draw(st.integers(self.model.compacted + 1, self.model.revision))
        result, events = self.apply(Compact(target))
        assert result.revision == self.model.revision and events == []
        self.model.compacted = target

    @rule()
    def restore_from_snapshot(self):
        data = self.store.snapshot()
        self.store = KVStore()
        self.store.restore(data)
        assert self.store.snapshot() == data

    @precondition(lambda self: self.model.revision > 0)
    @rule(data=st.data(), key=keys, end=st.sampled_from(ENDS))
    def read_at_a_past_revision(self, data, key, end):
        revision = data.draw(st.integers(0, self.model.revision + 1))
        result = self.store.range(Range(key, end, revision=revision))
        if revision > self.model.revision:
            assert result.code is ErrorCode.FUTURE_REVISION
        elif 0 < revision < self.model.compacted:
            assert result.code is ErrorCode.COMPACTED and result.compact_revision == self.model.compacted
        else:
            at = revision or self.model.revision
            expected = [self.model.kv(k, at) for k in KEYS if in_range(k, key, end)]
            assert [_kv(kv) for kv in result.kvs] == [kv for kv in expected if kv is not None]

    @rule(data=st.data(), key=keys, end=st.sampled_from(ENDS))
    def watch(self, data, key, end):
        start = data.draw(st.integers(0, self.model.revision + 1))
        events = self.store.events(start, key, end, prev_kv=True)
        if self.model.compacted and start <= self.model.compacted:
            assert isinstance(events, ErrorResult) and events.code is ErrorCode.COMPACTED
            return
        expected = [e for e in self.model.events if e[0] >= start and in_range(e[2], key, end)]
        assert [_event(e) for e in events] == expected

    @invariant()
    def latest_state_agrees(self):
        if not hasattr(self, "store"):
            return
        result = self.store.range(Range(b"\0", b"\0"))
        expected = [self.model.kv(k, self.model.revision) for k in KEYS]
        assert [_kv(kv) for kv in result.kvs] == [kv for kv in expected if kv is not None]
        assert self.store.revision == result.revision == self.model.revision
        assert self.store.stats().keys == len(result.kvs)


def _kv(kv) -> tuple:
    return kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.version


def _event(e) -> tuple:
    return e.kv.mod_revision, e.type, e.kv.key, e.kv.value, e.prev_kv.value if e.prev_kv else None


KVAgainstModel.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
test_kv_against_model = KVAgainstModel.TestCase
