"""The nemesis schedule. On its own thread, until the fault phase ends: a quiet spell, then a fault drawn from
the chosen families (sometimes a second one of another family on top of it), held for a while, then healed.
Exclusive nemeses (disk, member) run alone. The draws come from the run's seeded generator.

At the end everything is healed whatever happened: processes resumed and restarted, partitions, links and
clocks cleared, the membership brought back to its size. A node that exits on its own is a finding: it is
recorded as a crash and started again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .nemesis import Context, Fault, Nemesis, restore_membership

QUIET_S = (1.0, 3.0)
HOLD_S = (3.0, 8.0)
SECOND_FAULT_P = 0.3


@dataclass
class Event:
    time: float
    kind: str  # "crash", "start-failed" or "nemesis-error"
    node: int | None
    detail: str


class NemesisDriver:
    def __init__(self, ctx: Context, nemeses: list[Nemesis], until: float) -> None:
        self.ctx = ctx
        self.nemeses = nemeses
        self.until = until  # run time at which the fault phase ends
        self.faults: list[Fault] = []
        self.active: list[tuple[Nemesis, Fault]] = []
        self.events: list[Event] = []
        self.members_restored = False  # set by heal_all
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        rng = self.ctx.rng
        try:
            while self.nemeses and self._sleep(rng.uniform(*QUIET_S)):
                first = rng.choice(self.nemeses)
                self._begin(first)
                others = [n for n in self.nemeses if n is not first and not n.exclusive]
                if (
                    not first.exclusive
                    and others
                    and rng.random() < SECOND_FAULT_P
                    and self._sleep(rng.uniform(0.5, 2.0))
                ):
                    self._begin(rng.choice(others))
                self._sleep(rng.uniform(*HOLD_S))
                self._heal_active()
        finally:
            self.heal_all()

    def _sleep(self, seconds: float) -> bool:
        """Wait (watching for crashes); False once the fault phase is over."""
        remaining = self.until - self.ctx.clock()
        if remaining > 0:
            self._stop.wait(min(seconds, remaining))
        self.watch_exits()
        return not self._stop.is_set() and self.ctx.clock() < self.until

    def _begin(self, nemesis: Nemesis) -> None:
        try:
            fault = nemesis.begin(self.ctx)
        except Exception as e:  # noqa: BLE001 - a nemesis that failed is reported, the run goes on
            self._error(nemesis, e)
            return
        if fault is not None:
            self.faults.append(fault)
            self.active.append((nemesis, fault))

    def _heal_active(self) -> None:
        while self.active:
            nemesis, fault = self.active.pop()
            try:
                nemesis.heal(self.ctx, fault)
            except Exception as e:  # noqa: BLE001 - heal_all clears what is left
                self._error(nemesis, e)
            if fault.end is None:  # an instant fault (a leader transfer) set its own
                fault.end = self.ctx.clock()

    def heal_all(self) -> None:
        self._heal_active()
        cluster = self.ctx.cluster
        nodes = list(cluster.nodes)
        for node_id in nodes:
            cluster.resume(node_id)
        cluster.partition({})
        cluster.set_links(nodes)
        for node_id in nodes:
            cluster.set_clock(node_id, [1.0])
        self.watch_exits()
        for node_id in nodes:
            if not cluster.running(node_id):
                cluster.start(node_id)
        try:
            restore_membership(self.ctx)
            self.members_restored = True
        except Exception as e:  # noqa: BLE001 - the run's recovery check reports it
            self.events.append(Event(self.ctx.clock(), "nemesis-error", None, f"restoring the membership: {e}"))

    def watch_exits(self) -> None:
        cluster = self.ctx.cluster
        for node_id, code in cluster.exited().items():
            error = next(
                (line.strip() for line in reversed(cluster.log_tail(node_id, 40).splitlines()) if "Error" in line),
                "no error line in its log",
            )
            # A port taken by another program in the meantime (loopback mode) is the machine's doing, not a crash.
            kind = "start-failed" if "address already in use" in error.lower() else "crash"
            self.events.append(Event(self.ctx.clock(), kind, node_id, f"exit status {code}: {error[:300]}"))
            cluster.start(node_id)

    def _error(self, nemesis: Nemesis, error: Exception) -> None:
        self.events.append(
            Event(self.ctx.clock(), "nemesis-error", None, f"{nemesis.name}: {type(error).__name__}: {error}")
        )
