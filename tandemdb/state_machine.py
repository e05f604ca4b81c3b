"""The state machine interface: what a Raft group's driver (``tandemdb.node.group``) needs of the state it
replicates. ``tandemdb.kv.KVMachine`` and ``tandemdb.counter.CounterMachine`` implement it; the driver knows
nothing else of them.

A state machine is deterministic: every replica that applies the same committed commands from the same
snapshot reaches the same state and returns the same results. No clock, I/O or chance; the only time it sees
is the node's tick count, and only in its *leader duties*: volatile timers that run on the group's leader
alone (KV lease expiry) and act on replicated state only by returning commands for the leader to propose.

Exactly-once retries are not the machine's business: the driver keeps client sessions for every machine.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol


class OpKinds(NamedTuple):
    """Which client operations a machine serves, and how."""

    writes: tuple[type, ...]  # go through the log; ``apply`` returns one result each
    reads: tuple[type, ...]  # answered by ``read`` from applied state: after a ReadIndex, or at once if stale is ok
    leader: tuple[type, ...]  # answered by ``leader_serve`` on the leader from its volatile state


class MachineStats(NamedTuple):
    revision: int  # grows with every change that the machine counts
    items: int  # live keys, counters, accounts...
    bytes: int  # approximate size of the state


class StateMachine(Protocol):
    ops: OpKinds
    command_type: Any  # the union of ``ops.writes``: log entries are decoded with it
    result_type: Any  # the union of the results of ``apply``: the session table stores them in snapshots

    def validate(self, cmd: Any) -> Any | None:
        """A refusal (a result) if ``cmd`` can never apply whatever the state, else None. Checked before a
        write is proposed, so that a bad command costs no other node anything; ``apply`` checks again."""
        ...

    def apply(self, cmds: list[Any]) -> tuple[list[Any], list[Any]]:
        """Apply committed commands in order: one result each, and the changes they made (for watchers)."""
        ...

    def read(self, op: Any) -> Any:
        """Answer a read from the applied state."""
        ...

    def snapshot(self) -> bytes:
        """The whole state; equal states give equal bytes."""
        ...

    def restore(self, data: bytes) -> None:
        """Replace the whole state (``b""``: empty). Bad data raises and changes nothing."""
        ...

    def stats(self) -> MachineStats: ...

    # Leader duties (volatile; the driver calls these only while this replica leads the group).
    def lead(self, now: int) -> None:
        """This replica became leader at tick ``now``: start timers from the applied state."""
        ...

    def unlead(self) -> None:
        """Leadership is lost: drop every timer."""
        ...

    def leader_applied(self, cmds: list[Any], results: list[Any], now: int) -> None:
        """Commands applied while leading, with their results: start or stop timers."""
        ...

    def leader_timers(self) -> bool:
        """Whether a timer is running: the group must keep ticking (it cannot go quiet) until none is."""
        ...

    def leader_tick(self, now: int) -> list[Any]:
        """Commands that timers want proposed now (the driver proposes them without a waiter)."""
        ...

    def leader_serve(self, op: Any, now: int) -> Any:
        """Answer one of ``ops.leader``."""
        ...
