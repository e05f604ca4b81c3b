"""The lease table: granted leases, their TTLs, and the keys attached to each."""

from __future__ import annotations

from typing import NamedTuple


class LeaseInfo(NamedTuple):
    id: int
    ttl_s: int
    keys: list[bytes]  # sorted


class LeaseTable:
    """Leases never expire here: the leader times them and proposes ``LeaseRevoke``."""

    __slots__ = ("_ttl", "_keys")

    def __init__(self) -> None:
        self._ttl: dict[int, int] = {}
        self._keys: dict[int, set[bytes]] = {}

    def __contains__(self, lease_id: int) -> bool:
        return lease_id in self._ttl

    def __len__(self) -> int:
        return len(self._ttl)

    def grant(self, lease_id: int, ttl_s: int) -> None:
        self._ttl[lease_id] = ttl_s
        self._keys[lease_id] = set()

    def revoke(self, lease_id: int) -> list[bytes]:
        """Forget the lease; returns its keys, sorted (the caller deletes them)."""
        del self._ttl[lease_id]
        return sorted(self._keys.pop(lease_id))

    def attach(self, lease_id: int, key: bytes) -> None:
        self._keys[lease_id].add(key)

    def detach(self, lease_id: int, key: bytes) -> None:
        self._keys[lease_id].discard(key)

    def info(self, lease_id: int) -> LeaseInfo | None:
        ttl = self._ttl.get(lease_id)
        return None if ttl is None else LeaseInfo(lease_id, ttl, sorted(self._keys[lease_id]))

    def infos(self) -> list[LeaseInfo]:
        return [LeaseInfo(i, self._ttl[i], sorted(self._keys[i])) for i in sorted(self._ttl)]
