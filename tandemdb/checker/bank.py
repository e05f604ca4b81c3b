"""Checker for the bank workload: transfers move money between accounts inside transactions, so every read of
all balances must show each account, sum to the initial total, and show no negative balance."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec


class BankRead(msgspec.Struct, kw_only=True):
    id: int  # the op that read
    balances: dict[str, int]  # account -> balance, as read


class BadRead(msgspec.Struct, kw_only=True):
    op: int
    problems: list[str]
    balances: dict[str, int]


class BankResult(msgspec.Struct, kw_only=True):
    valid: bool
    reads: int
    bad_reads: list[BadRead]  # at most ``max_bad`` of them
    bad_count: int


def check(reads: list[BankRead], accounts: Sequence[str], total: int, *, max_bad: int = 10) -> BankResult:
    bad: list[BadRead] = []
    count = 0
    for read in reads:
        problems = []
        missing = sorted(set(accounts) - set(read.balances))
        if missing:
            problems.append(f"accounts missing: {', '.join(missing)}")
        extra = sorted(set(read.balances) - set(accounts))
        if extra:
            problems.append(f"unknown accounts: {', '.join(extra)}")
        seen = sum(read.balances.values())
        if seen != total:
            problems.append(f"total {seen}, expected {total}")
        negative = sorted(a for a, b in read.balances.items() if b < 0)
        if negative:
            problems.append(f"negative balance: {', '.join(f'{a}={read.balances[a]}' for a in negative)}")
        if problems:
            count += 1
            if len(bad) < max_bad:
                bad.append(BadRead(op=read.id, problems=problems, balances=read.balances))
    return BankResult(valid=count == 0, reads=len(reads), bad_reads=bad, bad_count=count)
