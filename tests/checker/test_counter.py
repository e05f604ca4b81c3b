"""The counter checker (Jepsen's): reads and add results within the bounds the history allows."""

from __future__ import annotations

from typing import Any

import pytest

from tandemdb.checker.counter import check
from tandemdb.checker.history import Op


def op(
    i: int,
    f: str,
    value: Any,
    invoke: float,
    complete: float | None,
    status: str = "ok",
    output: Any = None,
    key: str = "x",
) -> Op:
    return Op(
        id=i, process=i, f=f, key=key, value=value, output=output, status=status, invoke=invoke, complete=complete
    )


def test_sequential_adds_and_reads_pass() -> None:
    h = [
        op(0, "add", 2, 0, 1, output=2),
        op(1, "read", None, 2, 3, output=2),
        op(2, "add", 3, 4, 5, output=5),
        op(3, "read", None, 6, 7, output=5),
    ]
    res = check(h)
    assert res.valid, res.describe()
    assert res.reads == 2 and res.adds == 2


def test_concurrent_and_unknown_adds_widen_the_bounds() -> None:
    h = [
        op(0, "add", 2, 0, 1, output=2),
        op(1, "add", 5, 1.5, None, status="info"),  # may or may not have happened
        op(2, "read", None, 2, 3, output=7),  # saw the unknown add
        op(3, "read", None, 4, 5, output=7),
        op(4, "add", 1, 6, 10, output=8),
        op(5, "read", None, 7, 8, output=7),  # concurrent with the add of 1: before it
        op(6, "read", None, 8.5, 9, output=8),  # or after it
        op(7, "add", 4, 11, 12, status="fail"),  # certainly not applied: adds nothing to the upper bound
    ]
    assert check(h).valid


def test_a_read_above_every_attempted_add_is_a_double_apply() -> None:
    h = [
        op(0, "add", 3, 0, 1, output=3),
        op(1, "read", None, 2, 3, output=6),  # 3 applied twice
    ]
    res = check(h)
    assert not res.valid
    assert "read of 'x' (op 1) returned 6, above the upper bound 3" in res.describe()


def test_an_add_returning_more_than_attempted_is_a_double_apply() -> None:
    h = [
        op(0, "add", 3, 0, 1, output=3),
        op(1, "add", 1, 2, 3, output=7),  # the first add was applied again before this one
    ]
    res = check(h)
    assert not res.valid and "add 1 to 'x' (op 1) returned 7, above the upper bound 4" in res.describe()


def test_a_read_missing_an_acknowledged_add_is_below_the_lower_bound() -> None:
    h = [
        op(0, "add", 3, 0, 1, output=3),
        op(1, "add", 2, 2, 3, output=5),
        op(2, "read", None, 4, 5, output=3),  # stale: the add of 2 was acknowledged before the read began
    ]
    res = check(h)
    assert not res.valid and "read of 'x' (op 2) returned 3, below the lower bound 5" in res.describe()


def test_an_add_returning_less_than_its_own_delta_is_below_the_lower_bound() -> None:
    res = check([op(0, "add", 3, 0, 1, output=2)])
    assert not res.valid and "below the lower bound 3" in res.describe()


def test_counters_are_checked_independently() -> None:
    h = [
        op(0, "add", 3, 0, 1, output=3, key="x"),
        op(1, "read", None, 2, 3, output=0, key="y"),
        op(2, "read", None, 2, 3, output=4, key="y"),  # nothing was ever added to y
    ]
    res = check(h)
    assert res.count == 1 and "'y' (op 2) returned 4, above the upper bound 0" in res.describe()


def test_reads_that_did_not_complete_are_ignored() -> None:
    h = [op(0, "read", None, 0, None, status="info"), op(1, "add", 1, 0, 1, output=1)]
    assert check(h).valid


def test_bad_ops_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        check([op(0, "add", 0, 0, 1, output=0)])
    with pytest.raises(ValueError, match="add and read"):
        check([op(0, "write", 1, 0, 1)])
