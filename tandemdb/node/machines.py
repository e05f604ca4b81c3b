"""The state machines a group can run, by name (``NodeConfig.state_machine``, ``tandem sim --state-machine``)."""

from __future__ import annotations

from collections.abc import Callable

from ..counter import CounterMachine
from ..kv import KVMachine
from ..state_machine import StateMachine
from .config import NodeConfig

MACHINES: dict[str, Callable[[NodeConfig], StateMachine]] = {
    "kv": lambda cfg: KVMachine(ticks_per_s=1000 / cfg.tick_ms),
    "counter": lambda cfg: CounterMachine(),
}


def make_machine(name: str, cfg: NodeConfig) -> StateMachine:
    factory = MACHINES.get(name)
    if factory is None:
        raise ValueError(f"unknown state machine {name!r}; known: {', '.join(MACHINES)}")
    return factory(cfg)
