"""Helpers of the integration tests: a background writer that remembers which writes were acknowledged, and
bounded polling. Every wait here is an upper bound against hanging, never a claim about speed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tandemdb.client import Client, TandemError
from tandemdb.tools.local_cluster import LocalCluster, Timing

FAST = Timing(tick_ms=50, election_ticks=10, heartbeat_ticks=1)
WAIT_S = 60.0  # upper bound of every polling loop


def start_cluster(cluster: LocalCluster) -> int:
    cluster.start_all()
    return cluster.wait_for_leader(WAIT_S)


def wait_until(predicate: Callable[[], object], what: str, timeout: float = WAIT_S, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy (returned); fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def key(prefix: str, i: int) -> str:
    return f"{prefix}{i:06d}"


class Writer(threading.Thread):
    """Puts ``prefix000001``, ``prefix000002``, ... one after the other until stopped. ``acked`` lists the
    numbers whose put was acknowledged; a put that failed may or may not have been applied."""

    def __init__(self, endpoints: list[str], prefix: str = "w/", timeout: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.endpoints = endpoints
        self.prefix = prefix
        self.timeout = timeout
        self.acked: list[int] = []
        self.failed: list[tuple[int, str]] = []  # (number, error) of puts with unknown outcome
        self.crash: BaseException | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            with Client(self.endpoints, timeout=self.timeout) as client:
                i = 0
                while not self._stop_event.is_set():
                    i += 1
                    try:
                        client.put(key(self.prefix, i), str(i))
                    except TandemError as e:
                        self.failed.append((i, f"{type(e).__name__}: {e}"))
                    else:
                        self.acked.append(i)
        except BaseException as e:  # noqa: BLE001 - reported by stop()
            self.crash = e

    def wait_acked(self, count: int, timeout: float = WAIT_S) -> None:
        """Wait until ``count`` more writes than now are acknowledged."""
        target = len(self.acked) + count
        wait_until(lambda: len(self.acked) >= target or self.crash, f"{target} acknowledged writes", timeout)
        assert self.crash is None, f"the writer crashed: {self.crash!r}"

    def stop(self) -> None:
        self._stop_event.set()
        self.join(WAIT_S)
        assert not self.is_alive(), "the writer did not stop"
        assert self.crash is None, f"the writer crashed: {self.crash!r}"

    def check(self, client: Client) -> dict[bytes, bytes]:
        """Every acknowledged write is present with its value; returns the prefix's keys and values."""
        present = {kv.key: kv.value for kv in client.get(self.prefix, prefix=True).kvs}
        lost = [i for i in self.acked if present.get(key(self.prefix, i).encode()) != str(i).encode()]
        assert not lost, f"{len(lost)} acknowledged writes lost, first {lost[:10]} (of {len(self.acked)})"
        return present
