"""Jepsen's counter checker: reads and increments of named counters, checked against the bounds the history
allows.

Ops (``checker.history.Op``): ``f="add"`` with ``key`` the counter's name, ``value`` the delta (positive) and,
when ``ok``, ``output`` the counter's value right after the add (or None if the add returns nothing);
``f="read"`` with ``key`` and, when ``ok``, ``output`` the value read. ``fail`` adds certainly did not take
effect; ``info`` adds may have taken effect at any time after their invocation, or never.

For each counter, an ok read must return a value between

- the lower bound: the sum of the deltas of the adds that completed ``ok`` before the read was invoked (they
  certainly took effect before it), and
- the upper bound: the sum of the deltas of every add (``ok`` or ``info``) invoked before the read completed
  (nothing else can have taken effect by then).

An ok add's returned value obeys the same bounds, with the add itself counted in both (it took effect
between its invocation and its completion). With positive deltas, a value above the upper bound means some
add took effect more than once (a retry applied twice), and a value below the lower bound means an
acknowledged add was lost or a read was stale.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import accumulate

from .history import Op

MAX_REPORTED = 3


@dataclass
class CounterCheck:
    valid: bool = True
    violations: list[str] = field(default_factory=list)  # the first few, in history order
    count: int = 0  # violations in all
    reads: int = 0  # ok reads checked
    adds: int = 0  # ok adds with a returned value checked

    def describe(self) -> str:
        more = f" (and {self.count - len(self.violations)} more)" if self.count > len(self.violations) else ""
        return "; ".join(self.violations) + more


def check(ops: list[Op]) -> CounterCheck:
    res = CounterCheck()
    by_key: dict[str, list[Op]] = {}
    for o in ops:
        if o.f not in ("add", "read"):
            raise ValueError(f"op {o.id}: the counter checker knows add and read, not {o.f!r}")
        if o.key is None:
            raise ValueError(f"op {o.id} ({o.f}) names no counter")
        if o.f == "add" and (not isinstance(o.value, int) or o.value <= 0):
            raise ValueError(f"op {o.id}: an add's delta must be a positive integer, not {o.value!r}")
        by_key.setdefault(o.key, []).append(o)
    for key in sorted(by_key):
        _check_key(key, by_key[key], res)
    res.valid = res.count == 0
    return res


def _check_key(key: str, ops: list[Op], res: CounterCheck) -> None:
    # Lower bounds: ok adds by completion time; upper bounds: ok or info adds by invocation time.
    done = sorted(
        (o.complete, o.value) for o in ops if o.f == "add" and o.status == "ok" and o.complete is not None
    )
    done_at = [t for t, _ in done]
    done_sum = [0, *accumulate(d for _, d in done)]
    tried = sorted((o.invoke, o.value) for o in ops if o.f == "add" and o.status in ("ok", "info"))
    tried_at = [t for t, _ in tried]
    tried_sum = [0, *accumulate(d for _, d in tried)]
    for o in sorted(ops, key=lambda o: o.id):
        if o.status != "ok" or o.complete is None or o.output is None:
            continue
        lower = done_sum[bisect_left(done_at, o.invoke)]  # completed strictly before the invocation
        upper = tried_sum[bisect_left(tried_at, o.complete)]  # invoked strictly before the completion (an add:
        # itself included)
        if o.f == "add":
            res.adds += 1
            lower += o.value
            what = f"add {o.value} to {key!r} (op {o.id}) returned"
        else:
            res.reads += 1
            what = f"read of {key!r} (op {o.id}) returned"
        if not isinstance(o.output, int):
            _report(res, f"{what} {o.output!r}, not an integer")
        elif o.output > upper:
            _report(
                res,
                f"{what} {o.output}, above the upper bound {upper} (the sum of every add invoked before it "
                f"completed): an add took effect more than once",
            )
        elif o.output < lower:
            _report(
                res,
                f"{what} {o.output}, below the lower bound {lower} (the sum of the adds acknowledged before it "
                f"was invoked): an acknowledged add is missing",
            )


def _report(res: CounterCheck, text: str) -> None:
    res.count += 1
    if len(res.violations) < MAX_REPORTED:
        res.violations.append(text)
