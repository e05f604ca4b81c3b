"""Tests of the key-value register linearizability checker and its history records."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from hypothesis import given, settings, strategies as st

from tandemdb.checker import Op, Recorder, check, describe, from_jsonl, to_jsonl


def w(id, value, invoke, complete, *, key="x", status="ok", process=None):
    return Op(
        id=id, process=id if process is None else process, f="write", key=key, value=value,
        status=status, invoke=invoke, complete=None if status == "info" else complete,
    )  # fmt: skip


def r(id, output, invoke, complete, *, key="x", status="ok", process=None):
    return Op(
        id=id, process=id if process is None else process, f="read", key=key, output=output,
        status=status, invoke=invoke, complete=None if status == "info" else complete,
    )  # fmt: skip


def cas(id, expected, new, output, invoke, complete, *, key="x", status="ok", process=None):
    return Op(
        id=id, process=id if process is None else process, f="cas", key=key, value=(expected, new),
        output=output, status=status, invoke=invoke, complete=None if status == "info" else complete,
    )  # fmt: skip


# --- valid histories ------------------------------------------------------------------------------------


def test_empty_history_is_valid():
    assert check([]) == check([], max_steps=0)
    assert check([]).valid is True


def test_sequential_history():
    ops = [r(0, None, 0, 1), w(1, "a", 2, 3), r(2, "a", 4, 5), w(3, 7, 6, 7), r(4, 7, 8, 9)]
    result = check(ops)
    assert result.valid is True
    assert result.keys_checked == 1 and result.failures == [] and result.unknown_keys == []


@pytest.mark.parametrize("seen", ["a", "b"])
def test_concurrent_writes_then_a_read_that_sees_either(seen):
    ops = [w(0, "a", 0, 10), w(1, "b", 1, 9), r(2, seen, 11, 12), r(3, seen, 13, 14)]
    assert check(ops).valid is True


@pytest.mark.parametrize("seen", [None, "a", "b"])
def test_read_concurrent_with_writes_sees_any_of_them(seen):
    ops = [w(0, "a", 0, 10), w(1, "b", 1, 9), r(2, seen, 2, 8)]
    assert check(ops).valid is True


def test_events_at_the_same_instant_are_concurrent():
    ops = [w(0, "a", 0, 5), r(1, None, 5, 6)]
    assert check(ops).valid is True


def test_cas_chain():
    ops = [
        w(0, 0, 0, 1),
        cas(1, 0, 1, True, 2, 3),
        cas(2, 0, 2, False, 4, 5),
        cas(3, 1, 2, True, 6, 7),
        r(4, 2, 8, 9),
    ]
    assert check(ops).valid is True


def test_concurrent_cas_on_same_expected_value_one_wins():
    ops = [w(0, 0, 0, 1), cas(1, 0, 1, True, 2, 6), cas(2, 0, 2, False, 3, 5), r(3, 1, 7, 8)]
    assert check(ops).valid is True


@pytest.mark.parametrize("seen", ["a", "b"])
def test_info_write_may_or_may_not_take_effect(seen):
    ops = [w(0, "a", 0, 1), w(1, "b", 2, None, status="info"), r(2, seen, 10, 11)]
    assert check(ops).valid is True


def test_info_write_may_take_effect_long_after_its_invocation():
    ops = [w(0, "b", 0, None, status="info"), r(1, None, 1, 2), w(2, "a", 3, 4), r(3, "a", 5, 6), r(4, "b", 7, 8)]
    assert check(ops).valid is True


def test_info_cas_that_took_effect():
    ops = [w(0, 1, 0, 1), cas(1, 1, 2, None, 2, None, status="info"), r(2, 2, 5, 6)]
    assert check(ops).valid is True


def test_failed_and_unanswered_ops_are_ignored():
    ops = [w(0, "a", 0, 1), w(1, "b", 2, 3, status="fail"), r(2, "zzz", 2, None, status="info"), r(3, "a", 4, 5)]
    assert check(ops).valid is True


def test_keys_are_independent():
    ops = [w(0, "a", 0, 1, key="x"), w(1, "b", 0, 1, key="y"), r(2, "a", 2, 3, key="x"), r(3, "b", 2, 3, key="y")]
    result = check(ops)
    assert result.valid is True and result.keys_checked == 2


# --- invalid histories ----------------------------------------------------------------------------------


def test_stale_read():
    ops = [w(0, "a", 0, 1), w(1, "b", 2, 3), r(2, "a", 4, 5)]
    result = check(ops)
    assert result.valid is False
    [failure] = result.failures
    assert failure.key == "x" and failure.op == 2
    assert failure.prefix == [0, 1] and failure.state == "b"
    assert failure.ops == [0, 1, 2]


def test_lost_write():
    ops = [w(0, "a", 0, 1), w(1, "b", 2, 3), r(2, "a", 4, 6), r(3, "a", 5, 7), r(4, "a", 8, 9)]
    assert check(ops).valid is False


def test_read_of_a_value_never_written():
    ops = [w(0, "a", 0, 1), r(1, "z", 0.5, 2)]
    result = check(ops)
    assert result.valid is False
    assert result.failures[0].op == 1 and result.failures[0].concurrent == [0]


def test_read_of_a_failed_write():
    ops = [w(0, "a", 0, 1, status="fail"), r(1, "a", 2, 3)]
    assert check(ops).valid is False


def test_cas_succeeds_against_a_value_that_cannot_be_current():
    ops = [w(0, "a", 0, 1), w(1, "b", 2, 3), cas(2, "a", "c", True, 4, 5)]
    assert check(ops).valid is False


def test_refused_cas_when_the_value_must_have_matched():
    ops = [w(0, "a", 0, 1), cas(1, "a", "c", False, 2, 3)]
    assert check(ops).valid is False


def test_two_processes_both_win_a_cas_on_the_same_expected_value():
    ops = [w(0, 0, 0, 1), cas(1, 0, 1, True, 2, 5), cas(2, 0, 2, True, 3, 6)]
    result = check(ops)
    assert result.valid is False
    assert set(result.failures[0].ops) >= {1, 2}


def test_reads_cannot_flip_back_after_both_writes_complete():
    ops = [w(0, "a", 0, 10), w(1, "b", 1, 9), r(2, "b", 11, 12), r(3, "a", 13, 14)]
    assert check(ops).valid is False


def test_info_write_cannot_be_undone():
    ops = [w(0, "a", 0, 1), w(1, "b", 2, None, status="info"), r(2, "b", 10, 11), r(3, "a", 12, 13)]
    assert check(ops).valid is False


def test_only_the_bad_key_fails():
    ops = [
        w(0, "a", 0, 1, key="good"), r(1, "a", 2, 3, key="good"),
        w(2, "a", 0, 1, key="bad"), w(3, "b", 2, 3, key="bad"), r(4, "a", 4, 5, key="bad"),
    ]  # fmt: skip
    result = check(ops)
    assert result.valid is False and result.keys_checked == 2
    assert [f.key for f in result.failures] == ["bad"]


def test_describe_explains_the_failure():
    ops = [w(0, "a", 0, 1), w(1, "b", 2, 4), r(2, "a", 4.5, 5.5), w(3, "c", 5, 6)]
    result = check(ops)
    text = describe(result, ops)
    assert "key 'x' is not linearizable" in text
    assert "op 2 (process 2) read -> 'a' [ok] invoked 4.5, completed 5.5" in text
    assert "op 1 (process 1) write 'b' [ok] invoked 2, completed 4" in text
    assert describe(check(ops[:2]), ops[:2]) == "linearizable (1 keys checked)"


# --- budgets --------------------------------------------------------------------------------------------


def _wide_history(n: int) -> list[Op]:
    """n concurrent writes of distinct values and a concurrent read of a value never written.

    Proving it invalid means trying every subset of the writes before the read: exponential in n.
    """
    return [w(i, i, 0, 100) for i in range(n)] + [r(n, "never written", 1, 99)]


def test_step_budget_gives_unknown():
    result = check(_wide_history(200), max_steps=1000)
    assert result.valid is None
    assert result.unknown_keys == ["x"] and result.keys_checked == 0
    assert describe(result, _wide_history(200)) == "unknown (budget ran out): 'x'"


def test_step_budget_is_shared_by_the_whole_call():
    ops = _wide_history(30) + [w(100, "a", 0, 1, key="y"), r(101, "a", 2, 3, key="y")]
    result = check(ops, max_steps=1000)
    assert result.valid is None
    assert result.unknown_keys == ["x"] and result.keys_checked == 1


def test_failure_wins_over_unknown():
    ops = _wide_history(30) + [w(100, "a", 0, 1, key="y"), r(101, "b", 2, 3, key="y")]
    result = check(ops, max_steps=1000)
    assert result.valid is False and result.unknown_keys == ["x"]
    assert [f.key for f in result.failures] == ["y"]


def test_small_wide_history_is_decided():
    result = check(_wide_history(6))
    assert result.valid is False and result.failures[0].op == 6


def test_deadline_on_the_callers_clock():
    ops = _wide_history(5)
    assert check(ops, deadline=10.0, clock=lambda: 11.0).valid is None
    assert check(ops, deadline=10.0, clock=lambda: 9.0).valid is False
    with pytest.raises(ValueError):
        check(ops, deadline=10.0)


def test_deadline_is_checked_during_a_search():
    ticks = itertools.count()
    result = check(_wide_history(40), max_steps=None, deadline=5, clock=lambda: next(ticks))
    assert result.valid is None and result.unknown_keys == ["x"]


def test_malformed_ops_are_rejected():
    with pytest.raises(ValueError):
        check([r(0, None, 0, None)])  # ok without a completion time
    with pytest.raises(ValueError):
        check([w(0, "a", 0, 1), w(0, "b", 2, 3)])  # duplicate id
    with pytest.raises(ValueError):
        check([cas(0, 1, 2, None, 0, 1)])  # ok cas without a boolean output
    with pytest.raises(ValueError):
        check([Op(id=0, process=0, f="delete", key="x", status="ok", invoke=0, complete=1)])


# --- recorder -------------------------------------------------------------------------------------------


def test_recorder_builds_a_history_that_round_trips_through_jsonl():
    times = iter([0.0, 0.5, 0.6, 0.7, 0.8, 1.0, 2.0, 2.5, 3.0, 3.5])
    rec = Recorder(lambda: next(times))
    a = rec.invoke(1, "write", "x", "a")
    b = rec.invoke(2, "cas", "x", ["a", "b"])
    rec.invoke(3, "read", "x")
    d = rec.invoke(4, "write", "x", "z")
    e = rec.invoke(5, "write", "x", "q")
    rec.ok(a)
    rec.ok(b, True)
    rec.fail(d, "refused")
    rec.info(e, "timeout")
    with pytest.raises(ValueError):
        rec.ok(a)
    rec.close()  # the read never answered
    assert [op.status for op in rec.ops] == ["ok", "ok", "info", "fail", "info"]
    assert rec.counts == {"ok": 2, "fail": 1, "info": 2}
    reloaded = from_jsonl(to_jsonl(rec.ops))
    assert reloaded == [
        Op(id=0, process=1, f="write", key="x", value="a", status="ok", invoke=0.0, complete=1.0),
        Op(id=1, process=2, f="cas", key="x", value=["a", "b"], output=True, status="ok", invoke=0.5, complete=2.0),
        Op(id=2, process=3, f="read", key="x", status="info", invoke=0.6, complete=3.5, error="the run ended first"),
        Op(id=3, process=4, f="write", key="x", value="z", status="fail", invoke=0.7, complete=2.5, error="refused"),
        Op(id=4, process=5, f="write", key="x", value="q", status="info", invoke=0.8, complete=3.0, error="timeout"),
    ]
    assert check(reloaded).valid is True


# --- generated histories --------------------------------------------------------------------------------

_VALUES = st.sampled_from([1, 2, "a", None])  # few values, so that reads are ambiguous


@st.composite
def sequential_histories(draw, *, with_info: bool = True):
    """A random sequential execution on a few registers, its times then spread so that ops overlap.

    Op k takes effect at time k and its interval [k - lead, k + lag] contains k, so the sequential order
    respects real time and the history is linearizable by construction. Each op has its own process.
    Returns the ops and each key's final value.
    """
    keys = ["k0", "k1", "k2"][: draw(st.integers(1, 3))]
    statuses = ["ok", "ok", "ok", "fail"] + (["info", "never"] if with_info else [])
    state: dict[str, object] = {}
    ops = []
    for k in range(draw(st.integers(0, 40))):
        key = draw(st.sampled_from(keys))
        kind = draw(st.sampled_from(["read", "write", "cas"]))
        status = draw(st.sampled_from(statuses))
        invoke = k - draw(st.floats(0, 2.5))
        complete = None if status in ("info", "never") else k + draw(st.floats(0, 2.5))
        current = state.get(key)
        value = output = None
        if kind == "write":
            value = draw(_VALUES)
        elif kind == "cas":
            value = (draw(st.one_of(st.just(current), _VALUES)), draw(_VALUES))
        happened = status in ("ok", "info")
        if kind == "read" and status == "ok":
            output = current
        if kind == "write" and happened:
            state[key] = value
        if kind == "cas" and happened:
            if current == value[0]:
                state[key] = value[1]
            if status == "ok":
                output = current == value[0]
        status = "info" if status == "never" else status
        ops.append(Op(id=k, process=k, f=kind, key=key, value=value, output=output, status=status,
                      invoke=invoke, complete=complete))  # fmt: skip
    return ops, {key: state.get(key) for key in keys}


@settings(max_examples=100, deadline=None)
@given(sequential_histories())
def test_generated_sequential_histories_are_linearizable(history):
    ops, _ = history
    result = check(ops)
    assert result.valid is True, describe(result, ops)


@settings(max_examples=75, deadline=None)
@given(sequential_histories(with_info=False), st.data())
def test_injected_stale_read_is_detected(history, data):
    ops, final = history
    key = data.draw(st.sampled_from(sorted(final)))
    end = max([op.complete for op in ops if op.complete is not None], default=0.0)
    n = len(ops)
    ops = ops + [w(n, "fresh", end + 1, end + 2, key=key), r(n + 1, final[key], end + 3, end + 4, key=key)]
    result = check(ops)
    assert result.valid is False
    [failure] = result.failures
    assert failure.key == key and failure.op == n + 1


def _brute_force_linearizable(ops: list[Op]) -> bool:
    """Try every order of the ok ops plus any subset of the info ops that might have happened."""
    live = [op for op in ops if op.status == "ok" or (op.status == "info" and op.f != "read")]
    required = [op for op in live if op.status == "ok"]
    maybe = [op for op in live if op.status == "info"]
    for n in range(len(maybe) + 1):
        for extra in itertools.combinations(maybe, n):
            for order in itertools.permutations(required + list(extra)):
                if _respects_real_time(order) and _legal(order):
                    return True
    return False


def _respects_real_time(order) -> bool:
    ends = [math.inf if op.complete is None else op.complete for op in order]
    return all(ends[j] >= order[i].invoke for i in range(len(order)) for j in range(i + 1, len(order)))


def _legal(order) -> bool:
    state = None
    for op in order:
        if op.f == "read":
            if op.output != state:
                return False
        elif op.f == "write":
            state = op.value
        elif op.status == "info":
            state = op.value[1] if state == op.value[0] else state
        elif op.output != (state == op.value[0]):
            return False
        elif op.output:
            state = op.value[1]
    return True


@st.composite
def arbitrary_histories(draw):
    """Small single-key histories with random outputs and integer times (so that events often coincide)."""
    ops = []
    for i in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["read", "write", "cas"]))
        status = draw(st.sampled_from(["ok", "ok", "info", "fail"]))
        invoke = draw(st.integers(0, 8))
        complete = None if status == "info" else invoke + draw(st.integers(0, 4))
        value = output = None
        if kind == "write":
            value = draw(st.sampled_from([1, 2]))
        elif kind == "cas":
            value = (draw(_VALUES), draw(_VALUES))
        if status == "ok" and kind == "read":
            output = draw(st.sampled_from([1, 2, None]))
        elif status == "ok" and kind == "cas":
            output = draw(st.booleans())
        ops.append(Op(id=i, process=i, f=kind, key="x", value=value, output=output, status=status,
                      invoke=invoke, complete=complete))  # fmt: skip
    return ops


@settings(max_examples=250, deadline=None)
@given(arbitrary_histories())
def test_agrees_with_brute_force(ops):
    assert check(ops).valid is _brute_force_linearizable(ops)


def _concurrent_history(rng: random.Random, n_ops: int, n_keys: int, n_processes: int) -> list[Op]:
    """Processes issue ops one at a time; each op takes effect at a random instant within its interval."""
    clocks = [0.0] * n_processes
    planned = []  # (effect time, invoke, complete, process, kind, key, value, status)
    for _ in range(n_ops):
        p = rng.randrange(n_processes)
        invoke = clocks[p] + rng.random()
        complete = invoke + rng.uniform(0.1, 3.0)
        clocks[p] = complete
        kind = rng.choice(["read", "write", "cas"])
        value = {"read": None, "write": rng.randrange(5), "cas": (rng.randrange(5), rng.randrange(5))}[kind]
        status = "info" if kind != "read" and rng.random() < 0.02 else "ok"
        key = f"k{rng.randrange(n_keys)}"
        planned.append((rng.uniform(invoke, complete), invoke, complete, p, kind, key, value, status))
    state: dict[str, object] = {}
    ops = []
    for i, (_, invoke, complete, p, kind, key, value, status) in enumerate(sorted(planned)):
        current, output = state.get(key), None
        if kind == "read":
            output = current
        elif kind == "write":
            state[key] = value
        elif current == value[0]:
            state[key], output = value[1], True
        else:
            output = False
        if status == "info":
            output, complete = None, None
        ops.append(Op(id=i, process=p, f=kind, key=key, value=value, output=output, status=status,
                      invoke=invoke, complete=complete))  # fmt: skip
    return ops


def test_two_thousand_ops_over_twenty_keys():
    ops = _concurrent_history(random.Random(7), n_ops=2000, n_keys=20, n_processes=5)
    result = check(ops)
    assert result.valid is True and result.keys_checked == 20
