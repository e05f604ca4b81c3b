"""The bank workload: transfers between accounts in multi-key transactions, and reads of every balance.

A transfer reads both balances, then commits a ``Txn`` that compares both keys' mod revisions with what it
read and writes both new balances; a changed account fails the compare and nothing is written. A transfer
that would overdraw is refused before any write. Reads take every account in one range read (one revision)
from a random node. The checker wants every read to sum to the initial total with no negative balance.

Ops: ``transfer`` (value: {"from", "to", "amount"}), ``read`` (output: {account: balance}).
"""

from __future__ import annotations

import random
from typing import Any

from ...checker.bank import BankRead, check
from ...checker.history import Op
from ...client import AsyncClient
from ...kv.commands import MOD, Compare, Put
from .base import Refused, Workload

ACCOUNTS = 5
INITIAL = 20  # per account
PREFIX = "chaos/bank/"


def account_key(i: int) -> str:
    return f"{PREFIX}{i}"


class Bank(Workload):
    name = "bank"
    accounts = tuple(account_key(i) for i in range(ACCOUNTS))
    total = ACCOUNTS * INITIAL

    async def setup(self) -> None:
        """Open the accounts: one transaction, retried until it commits (it only applies to absent keys)."""
        compares = [Compare(k.encode(), MOD, "==", 0) for k in self.accounts]
        puts = [Put(k.encode(), str(INITIAL).encode()) for k in self.accounts]

        async def open_accounts() -> bool:
            try:
                await self.clients.any().txn(compares, puts, [])
            except Exception:  # noqa: BLE001 - retried
                return False
            return True

        if not await self.final_reads(open_accounts):
            raise RuntimeError("could not open the bank's accounts")

    def invoke(self, rng: random.Random, process: int) -> tuple[Op, bool]:
        if rng.random() < 0.4:
            return self.recorder.invoke(process, "read", node=self.clients.pick(rng)), True
        src, dst = rng.sample(range(ACCOUNTS), 2)
        value = {"from": account_key(src), "to": account_key(dst), "amount": rng.randint(1, 5)}
        return self.recorder.invoke(process, "transfer", value=value), False

    async def run(self, op: Op, rng: random.Random) -> Any:
        if op.f == "read":
            return await self._read(self.clients.at(op.node))
        client = self.clients.any()
        src, dst, amount = op.value["from"], op.value["to"], op.value["amount"]
        kvs = {kv.key.decode(): kv for kv in (await client.get(PREFIX, prefix=True)).kvs}
        if src not in kvs or dst not in kvs:
            raise Refused("an account is missing")
        balance_src, balance_dst = int(kvs[src].value), int(kvs[dst].value)
        if balance_src < amount:
            raise Refused(f"{src} holds {balance_src}, less than {amount}")
        compares = [Compare(k.encode(), MOD, "==", kvs[k].mod_revision) for k in (src, dst)]
        puts = [
            Put(src.encode(), str(balance_src - amount).encode()),
            Put(dst.encode(), str(balance_dst + amount).encode()),
        ]
        result = await client.txn(compares, puts, [])
        if not result.succeeded:
            raise Refused("an account changed since it was read")
        return None

    async def _read(self, client: AsyncClient) -> dict[str, int]:
        return {kv.key.decode(): int(kv.value) for kv in (await client.get(PREFIX, prefix=True)).kvs}

    async def final(self) -> bool:
        process = self.new_process()

        async def read() -> bool:
            op = self.recorder.invoke(process, "read", node="final")
            return await self.final_read(op, lambda: self._read(self.clients.any()))

        return await self.final_reads(read)

    @staticmethod
    def check(ops: list[Op], budget_s: float) -> dict:
        return check_history(ops, budget_s)


def check_history(ops: list[Op], budget_s: float = 0.0) -> dict:
    """Every ok read holds every account, sums to the total and has no negative balance."""
    reads = [BankRead(id=op.id, balances=op.output) for op in ops if op.f == "read" and op.status == "ok"]
    result = check(reads, Bank.accounts, Bank.total)
    return {
        "checker": "bank",
        "valid": result.valid,
        "reads": result.reads,
        "bad_count": result.bad_count,
        "bad_reads": [{"op": b.op, "problems": b.problems, "balances": b.balances} for b in result.bad_reads],
        "ops": [b.op for b in result.bad_reads],
        "explanation": "\n".join(f"op {b.op}: {'; '.join(b.problems)} {b.balances}" for b in result.bad_reads),
    }
