"""Debug-only faults for the chaos harness (``tandem start --debug-faults FILE``); never on in production.

The harness writes FILE, a JSON object, by replacing it atomically; the server polls it every 50 ms and at
start, so a restarted node comes back with the faults it should have. Every field is optional:

    drop          peer ids whose frames are dropped, both sent and received (a partition without iptables)
    delay_ms      extra latency of every frame sent to a peer; jitter_ms adds up to that much at random
    loss          share of the frames sent to peers that are dropped (0..1)
    clock_rates   tick-rate factors, cycled every clock_period_ms: [2.0] ticks twice as fast (clock skew),
                  [0.25, 4.0] alternates slow and fast (a strobe). The node's clock is its tick count
    clock_bump    {"seq": n, "ms": m}: once per new seq, jump the clock: m > 0 runs m ms of ticks at once,
                  m < 0 holds the ticks back for -m ms
    fail_apply    true: the node's state machines raise on their next apply (an exception inside the node
                  core, which must stop the process: fail-stop)

Frames sent to one peer stay in order, delays included, as on one TCP connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections import deque
from collections.abc import Callable

_log = logging.getLogger("tandemdb.server.debug_faults")

POLL_S = 0.05


class DebugFaults:
    def __init__(self, loop: asyncio.AbstractEventLoop, path: str) -> None:
        self.loop = loop
        self.path = path
        self.drop: frozenset[int] = frozenset()
        self.delay_s = 0.0
        self.jitter_s = 0.0
        self.loss = 0.0
        self.clock_rates = [1.0]
        self.clock_period_s = 1.0
        self._bump_seq = 0
        self._on_bump: Callable[[float], None] = lambda ms: None
        self._on_fail_apply: Callable[[], None] = lambda: None
        self.fail_apply = False
        self._mtime = -1
        self._delayed: dict[int, deque[tuple[float, bytes]]] = {}  # peer -> (when it leaves, frame), in order
        self._rng = random.Random()
        self.load()

    def start(self, on_bump: Callable[[float], None], on_fail_apply: Callable[[], None]) -> None:
        """Start polling the file; ``on_bump(ms)`` carries out a clock jump, ``on_fail_apply()`` breaks apply."""
        self._on_bump = on_bump
        self._on_fail_apply = on_fail_apply
        self.loop.call_later(POLL_S, self._poll)

    def load(self) -> None:
        try:
            mtime = os.stat(self.path).st_mtime_ns
            if mtime == self._mtime:
                return
            with open(self.path, "rb") as f:
                spec = json.load(f)
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            _log.warning("cannot read debug faults %s: %s", self.path, e)
            return
        self._mtime = mtime
        self.drop = frozenset(int(p) for p in spec.get("drop", ()))
        self.delay_s = spec.get("delay_ms", 0) / 1000
        self.jitter_s = spec.get("jitter_ms", 0) / 1000
        self.loss = float(spec.get("loss", 0.0))
        self.clock_rates = [float(r) for r in spec.get("clock_rates", [1.0])] or [1.0]
        self.clock_period_s = max(spec.get("clock_period_ms", 1000), 1) / 1000
        bump = spec.get("clock_bump") or {}
        if bump.get("seq", 0) > self._bump_seq:
            self._bump_seq = bump["seq"]
            self._on_bump(float(bump.get("ms", 0)))
        if spec.get("fail_apply") and not self.fail_apply:
            self.fail_apply = True
            self._on_fail_apply()
        _log.info("debug faults now %s", spec)

    def _poll(self) -> None:
        self.load()
        self.loop.call_later(POLL_S, self._poll)

    def clock_rate(self) -> float:
        rates = self.clock_rates
        if len(rates) == 1:
            return rates[0]
        return rates[int(self.loop.time() / self.clock_period_s) % len(rates)]

    def blocks(self, peer: int) -> bool:
        return peer in self.drop

    def route(self, to: int, frame: bytes, send: Callable[[int, bytes], None]) -> None:
        """Send ``frame`` to ``to`` with ``send``: now, later, or never."""
        if to in self.drop or (self.loss and self._rng.random() < self.loss):
            return
        queue = self._delayed.setdefault(to, deque())
        if not self.delay_s and not self.jitter_s and not queue:
            send(to, frame)
            return
        due = self.loop.time() + self.delay_s + self._rng.random() * self.jitter_s
        if queue:
            due = max(due, queue[-1][0])
        else:
            self.loop.call_at(due, self._release, to, send)
        queue.append((due, frame))

    def _release(self, to: int, send: Callable[[int, bytes], None]) -> None:
        queue = self._delayed[to]
        while queue and queue[0][0] <= self.loop.time():
            send(to, queue.popleft()[1])
        if queue:
            self.loop.call_at(queue[0][0], self._release, to, send)
