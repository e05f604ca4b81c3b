"""Bootstrapping the first members of a new cluster.

Every node of a new cluster starts with the same log: one committed ADD_NODE conf change per initial voter,
at term 1. The application applies them like any other conf change, so a node added later rebuilds the
configuration by replaying the log from index 1 (or from a snapshot), exactly as the first members did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .storage import MemoryStorage
from .types import ConfChange, ConfChangeSingle, ConfChangeType, Entry, EntryType, HardState


def bootstrap_entries(voters: Iterable[int], contexts: Mapping[int, bytes] | None = None) -> list[Entry]:
    """``contexts`` gives each voter's conf change its context (the application's description of the node)."""
    ids = sorted(set(voters))
    contexts = contexts or {}
    if not ids or 0 in ids:
        raise ValueError("a cluster needs at least one voter, and node id 0 is reserved")
    return [
        Entry(
            1,
            i,
            EntryType.CONF_CHANGE,
            ConfChange((ConfChangeSingle(ConfChangeType.ADD_NODE, v),), context=contexts.get(v, b"")).encode(),
        )
        for i, v in enumerate(ids, 1)
    ]


def bootstrap(storage: MemoryStorage, voters: Iterable[int], contexts: Mapping[int, bytes] | None = None) -> None:
    """Write the initial log of a new cluster's node into an empty ``storage``."""
    if storage.last_index() != 0 or storage.hard_state != HardState():
        raise ValueError("bootstrap needs an empty storage: this node already has state")
    ents = bootstrap_entries(voters, contexts)
    storage.append(ents)
    storage.set_hard_state(HardState(term=1, commit=len(ents)))
