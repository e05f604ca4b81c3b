"""Linearizability checker for key-value register histories.

The history is split by key (P-compositionality, as in Porcupine) and each key is checked alone with the
Wing & Gong search as improved by Lowe ("Testing for linearizability", 2016): walk the call and return
events in time order, linearize a pending call whenever the register model allows it, and backtrack on
reaching the return of an op not yet linearized. Every (linearized set, state) configuration explored is
remembered so that none is explored twice. The events form a doubly linked list (arrays of indices) from
which a linearized op's call and return are lifted, and restored on backtracking; linearized sets are
bitset ints. The search is a loop with an explicit stack, never recursion. Reads and refused cas ops, which
never change the register, are linearized without branching as soon as they are legal (see ``_PURE``).

Model: a register, initially None (absent). read returns the value; write sets it; cas(expected, new)
succeeds, and sets new, iff the value equals expected. Ops (``checker.history.Op``): ``f`` is ``read`` (output:
the value, None when absent), ``write`` (value: the value) or ``cas`` (value: [expected, new]; output: whether
it swapped; a refused cas observed another value and wrote nothing). Ops with status ``fail`` never happened and are
dropped. ``info`` ops complete at +infinity and are optional: a key is linearizable as soon as every ok op
is linearized. Events at the same instant count as concurrent (calls sort before returns).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Literal

import msgspec

from tandemdb.checker.history import STATUSES, Op

KINDS = ("read", "write", "cas")
Value = str | int | None  # a register's value; None: absent

# Register transitions, one code per kind of op as the model sees it.
_READ = 0  # ok read: a is the value it returned
_WRITE = 1  # ok or info write: a is the value written
_CAS = 2  # ok cas that returned True: a expected, b new
_CAS_REFUSED = 3  # ok cas that returned False: a expected
_CAS_MAYBE = 4  # info cas, outcome unknown: a expected, b new

# Ops that never change the register. One legal in the current state can be linearized at once without loss
# of generality: if any linearization of the remaining ops exists, moving the pure op to its front keeps it
# legal (it was invoked before every pending return), so the search never branches on leaving it for later.
_PURE = (_READ, _CAS_REFUSED)

_CLOCK_EVERY = 1024  # search steps between two reads of the caller's clock


class KeyFailure(msgspec.Struct, kw_only=True):
    """Why one key's history is not linearizable.

    ``op`` could not be linearized after ``prefix``, the longest linearizable prefix the search found (op ids
    in linearization order), which leaves the register holding ``state``. ``concurrent`` lists the ops whose
    intervals overlap ``op``; ``ops`` is the sorted union of all of these ids.
    """

    key: str
    op: int
    concurrent: list[int]
    prefix: list[int]
    state: Value
    ops: list[int]


class CheckResult(msgspec.Struct, kw_only=True):
    """``valid``: True, False, or None when some key ran out of budget and no key failed.

    ``keys_checked`` counts keys given a verdict; ``unknown_keys`` are the keys whose budget ran out.
    """

    valid: bool | None
    failures: list[KeyFailure] = []
    unknown_keys: list[str] = []
    keys_checked: int = 0


class _Budget:
    """Steps left for the whole check, and the caller's optional wall-clock deadline."""

    __slots__ = ("steps", "deadline", "clock")

    def __init__(self, steps: int | None, deadline: float | None, clock: Callable[[], float] | None) -> None:
        self.steps = math.inf if steps is None else steps
        self.deadline = deadline
        self.clock = clock

    def expired(self) -> bool:
        if self.deadline is None:
            return False
        assert self.clock is not None  # check() refuses a deadline without a clock
        return self.clock() >= self.deadline


def check(
    ops: Iterable[Op],
    *,
    max_steps: int | None = 2_000_000,
    deadline: float | None = None,
    clock: Callable[[], float] | None = None,
) -> CheckResult:
    """Check that a history of register ops is linearizable, key by key.

    ``max_steps`` bounds the search steps of this whole call (None: unbounded); ``deadline`` is a time on
    the caller's ``clock`` (a callable returning seconds) after which the search stops. Keys are checked
    smallest first; a key whose budget runs out is reported in ``unknown_keys``.
    """
    if deadline is not None and clock is None:
        raise ValueError("a deadline needs a clock")
    by_key = _partition(ops)
    budget = _Budget(max_steps, deadline, clock)
    failures: list[KeyFailure] = []
    unknown: list[str] = []
    for key in sorted(by_key, key=lambda k: (len(by_key[k]), k)):
        outcome = _check_key(key, by_key[key], budget)
        if outcome is None:
            unknown.append(key)
        elif isinstance(outcome, KeyFailure):
            failures.append(outcome)
    valid = False if failures else (None if unknown else True)
    failures.sort(key=lambda f: f.key)
    return CheckResult(
        valid=valid, failures=failures, unknown_keys=sorted(unknown), keys_checked=len(by_key) - len(unknown)
    )


def _partition(ops: Iterable[Op]) -> dict[str, list[Op]]:
    """Validate the ops and group those that matter to the model by key (every key appears)."""
    by_key: dict[str, list[Op]] = {}
    ids: set[int] = set()
    for op in ops:
        if op.f not in KINDS or op.status not in STATUSES:
            raise ValueError(f"op {op.id}: unknown operation {op.f!r} or status {op.status!r}")
        if op.id in ids:
            raise ValueError(f"op id {op.id} appears twice")
        ids.add(op.id)
        if op.key is None:
            raise ValueError(f"op {op.id}: a register op needs a key")
        kept = by_key.setdefault(op.key, [])
        if op.status == "fail" or (op.status == "info" and op.f == "read"):
            continue  # did not happen, or an unanswered read: no constraint on the register
        if op.status == "ok" and (op.complete is None or op.complete < op.invoke):
            raise ValueError(f"op {op.id}: an ok op needs complete >= invoke")
        kept.append(op)
    return by_key


def _transition(op: Op) -> tuple[int, Value, Value]:
    """The model's view of an op: (code, a, b) as described at the _READ... constants."""
    if op.f == "read":
        return _READ, op.output, None
    if op.f == "write":
        return _WRITE, op.value, None
    if not isinstance(op.value, (tuple, list)) or len(op.value) != 2:
        raise ValueError(f"op {op.id}: a cas value must be [expected, new], not {op.value!r}")
    expected, new = op.value
    if op.status == "info":
        return _CAS_MAYBE, expected, new
    if not isinstance(op.output, bool):
        raise ValueError(f"op {op.id}: an ok cas must output True or False, not {op.output!r}")
    return (_CAS, expected, new) if op.output else (_CAS_REFUSED, expected, None)


def _step(code: int, a: Value, b: Value, state: Value) -> tuple[bool, Value]:
    """Apply one op to the register: (whether the op is legal in this state, the state after it)."""
    if code == _READ:
        return state == a, state
    if code == _WRITE:
        return True, a
    if code == _CAS:
        return state == a, b
    if code == _CAS_REFUSED:
        return state != a, state
    return True, (b if state == a else state)


def _check_key(key: str, ops: list[Op], budget: _Budget) -> KeyFailure | Literal[True] | None:
    """Search one key's history: True if linearizable, a KeyFailure if not, None if the budget ran out."""
    if not ops:
        return True
    if budget.steps <= 0 or budget.expired():
        return None
    n = len(ops)
    transitions = [_transition(op) for op in ops]
    optional = [op.status == "info" for op in ops]
    pure = [code in _PURE for code, _, _ in transitions]
    events = sorted(
        [(op.invoke, 0, i) for i, op in enumerate(ops)]
        + [(math.inf if optional[i] else op.complete, 1, i) for i, op in enumerate(ops)]
    )
    # Linked list of entries: 0 is the head sentinel, 1..2n the events in time order, 2n+1 the tail sentinel.
    tail = 2 * n + 1
    nxt = list(range(1, tail + 2))
    prv = list(range(-1, tail))
    op_of = [0] * (tail + 1)
    is_call = [False] * (tail + 1)
    ret_of = [0] * (tail + 1)  # call entry -> its return entry
    call_of_op = [0] * n
    for entry, (_, is_return, i) in enumerate(events, start=1):
        op_of[entry] = i
        if is_return:
            ret_of[call_of_op[i]] = entry
        else:
            is_call[entry] = True
            call_of_op[i] = entry

    def lift(call: int) -> None:
        ret = ret_of[call]
        nxt[prv[call]] = nxt[call]
        prv[nxt[call]] = prv[call]
        nxt[prv[ret]] = nxt[ret]
        prv[nxt[ret]] = prv[ret]

    def unlift(call: int) -> None:
        ret = ret_of[call]
        nxt[prv[ret]] = ret
        prv[nxt[ret]] = ret
        nxt[prv[call]] = call
        prv[nxt[call]] = call

    state: Value = None
    linearized = 0
    stack: list[tuple[int, Value]] = []  # (call entry linearized, state before it)
    seen: set[tuple[int, Value]] = set()
    best: tuple[list[int], int, Value] | None = None  # (prefix, op blocked after it, state), deepest first
    limit = budget.steps
    steps = 0
    entry = nxt[0]
    while entry != tail:
        steps += 1
        if steps > limit or (steps % _CLOCK_EVERY == 0 and budget.expired()):
            budget.steps = 0
            return None
        i = op_of[entry]
        if is_call[entry]:
            legal, after = _step(*transitions[i], state)
            if not legal:
                entry = nxt[entry]
                continue
            config = (linearized | (1 << i), after)
            if config not in seen:
                seen.add(config)
                stack.append((entry, state))
                linearized, state = config
                lift(entry)
                entry = nxt[0]
                continue
            if not pure[i]:
                entry = nxt[entry]
                continue
            # A pure op legal here leads to a configuration that failed, so this configuration fails too.
        elif optional[i]:
            break  # only info ops' returns (at +infinity) remain: every ok op is linearized
        elif best is None or len(stack) > len(best[0]):
            best = ([ops[op_of[e]].id for e, _ in stack], i, state)
        # Backtrack past pure ops: each was legal where it was linearized, so nothing else needs trying there.
        while True:
            if not stack:
                budget.steps -= steps
                # The first backtrack is from a blocked return (any other needs a configuration seen before,
                # hence an earlier backtrack), and that sets ``best``.
                assert best is not None
                return _failure(key, ops, *best)
            entry, state = stack.pop()
            linearized &= ~(1 << op_of[entry])
            unlift(entry)
            if not pure[op_of[entry]]:
                break
        entry = nxt[entry]
    budget.steps -= steps
    return True


def _failure(key: str, ops: list[Op], prefix: list[int], blocked: int, state: Value) -> KeyFailure:
    op = ops[blocked]
    assert op.complete is not None  # blocked at its return: an ok op, and _partition checked it has one
    concurrent = [
        other.id
        for other in sorted(ops, key=lambda o: (o.invoke, o.id))
        if other is not op
        and other.invoke <= op.complete
        and (other.status == "info" or other.complete is None or other.complete >= op.invoke)
    ]
    return KeyFailure(
        key=key,
        op=op.id,
        concurrent=concurrent,
        prefix=prefix,
        state=state,
        ops=sorted({op.id, *concurrent, *prefix}),
    )


def describe(result: CheckResult, ops: Iterable[Op]) -> str:
    """Explain a result in words: for each failing key, the blocked op, what overlaps it, and the prefix."""
    by_id = {op.id: op for op in ops}
    if result.valid:
        return f"linearizable ({result.keys_checked} keys checked)"
    lines = []
    for failure in result.failures:
        lines.append(f"key {failure.key!r} is not linearizable")
        lines.append(
            f"  after the longest linearizable prefix ({len(failure.prefix)} ops) the register holds "
            f"{failure.state!r}; the prefix ends with:"
        )
        lines.extend(f"    {_render(by_id[i])}" for i in failure.prefix[-5:])
        lines.append(f"  no legal order then linearizes {_render(by_id[failure.op])}")
        lines.append("  concurrent with it:" if failure.concurrent else "  nothing is concurrent with it")
        lines.extend(f"    {_render(by_id[i])}" for i in failure.concurrent)
    if result.unknown_keys:
        lines.append(f"unknown (budget ran out): {', '.join(repr(k) for k in result.unknown_keys)}")
    return "\n".join(lines)


def _render(op: Op) -> str:
    if op.f == "read":
        action = f"read -> {op.output!r}"
    elif op.f == "write":
        action = f"write {op.value!r}"
    else:
        action = f"cas {op.value[0]!r} -> {op.value[1]!r}" + ("" if op.status == "info" else f" = {op.output}")
    end = "open" if op.status == "info" else f"{op.complete:g}"
    return f"op {op.id} (process {op.process}) {action} [{op.status}] invoked {op.invoke:g}, completed {end}"
