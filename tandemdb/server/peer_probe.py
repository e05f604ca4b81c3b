"""Round-trip probes between nodes, on the peer links themselves (so they queue behind Raft traffic, as a
heartbeat would). Each node pings every peer once a second; the peer echoes the ping back on its own link to the
sender. A ping is the sender's monotonic clock in ns, so the echo alone gives the round-trip time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ..wire.peer import PeerBatch
from .peer_transport import PeerTransport


class PeerProbe:
    def __init__(self, transport: PeerTransport, on_rtt: Callable[[int, float], None]) -> None:
        self.t = transport
        self.on_rtt = on_rtt
        self.last_heard: dict[int, float] = {}  # peer -> loop time of its last echo
        self.last_rtt: dict[int, float] = {}  # peer -> its last round trip, in seconds
        transport.on_probe = self.receive

    def ping(self, peers: Iterable[int]) -> None:
        now = time.monotonic_ns()
        for peer in peers:
            if peer != self.t.node_id:
                self.t.send(peer, [], pings=[now])

    def receive(self, peer: int, batch: PeerBatch) -> None:
        faults = self.t.faults
        if faults is not None and faults.blocks(peer):
            return
        if batch.pings:
            self.t.send(peer, [], pongs=batch.pings)
        if batch.pongs:
            now = time.monotonic_ns()
            self.last_heard[peer] = self.t.loop.time()
            for sent in batch.pongs:
                self.last_rtt[peer] = rtt = max(0, now - sent) / 1e9
                self.on_rtt(peer, rtt)

    def heard_within(self, peer: int, seconds: float) -> bool:
        heard = self.last_heard.get(peer)
        return heard is not None and self.t.loop.time() - heard <= seconds
