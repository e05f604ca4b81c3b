"""``Server``: one node process. The asyncio loop feeds the node core its events and carries out its actions.

Each loop turn that had events ends with one ``Node.drain``: every destination gets one frame, every client
connection one write, and all groups' log writes go to the group-commit thread together.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import signal
import sys
from collections import defaultdict
from collections.abc import Callable

from aiohttp import web

from ..node import Node
from ..storage import NodeStorage
from ..storage.disk import RealDisk
from ..storage.threads import GroupCommitter, SpareSegments
from ..wire.client_api import Request, Response
from ..wire.peer import GroupMessage
from .client_listener import ClientListener
from .config import ServerConfig
from .debug_faults import DebugFaults
from .gateway import Gateway
from .http_api import make_app
from .logs import setup_logging
from .observability import Observability
from .peer_transport import PeerTransport, split_host_port

_log = logging.getLogger("tandemdb.server")


class CoreFailure(RuntimeError):
    """The node core raised: the process stops (see ``Server._core``)."""


class Server:
    def __init__(self, cfg: ServerConfig) -> None:
        self.cfg = cfg
        self.loop = asyncio.get_running_loop()
        ncfg = cfg.node
        self.storage = NodeStorage.open(RealDisk(), cfg.data_dir, cluster_id=ncfg.cluster_id, node_id=ncfg.id)
        self.node = Node(
            ncfg,
            self.storage,
            random.Random(),
            initial_members=cfg.initial_members(),
            peers=dict(cfg.initial_cluster),
        )
        self.committer = GroupCommitter(self.storage.wal).start()
        self.spares = SpareSegments(self.storage.wal).start()
        self.faults = DebugFaults(self.loop, cfg.debug_faults) if cfg.debug_faults else None
        self.peers = PeerTransport(
            self.loop,
            cluster_id=ncfg.cluster_id,
            node_id=ncfg.id,
            address_of=self.node.peer_address,
            on_messages=self._on_messages,
            on_unreachable=self._on_unreachable,
            faults=self.faults,
        )
        self.clients = ClientListener(self.loop, ncfg.id, self._on_request, self._on_disconnect)
        self.gateway = Gateway(self._on_request)
        self.obs = Observability(self)  # metrics, traces, event log, console
        self._turn_scheduled = False
        self._failed: BaseException | None = None
        self._closed = False
        self._stopped = asyncio.Event()
        self._http_runner: web.AppRunner | None = None
        self._ticker: asyncio.TimerHandle | None = None

    # -- life cycle ---------------------------------------------------------------------------------------------------
    async def start(self) -> None:
        cfg = self.cfg
        await self.peers.listen(cfg.listen_peer)
        host, port = split_host_port(cfg.listen_client)
        await self.clients.listen(host, port)
        app = make_app(self.gateway, node_info=self._node_info)
        self.obs.start(app)
        self._http_runner = web.AppRunner(app, access_log=None)
        await self._http_runner.setup()
        host, port = split_host_port(cfg.listen_http)
        await web.TCPSite(self._http_runner, host, port, reuse_address=True).start()
        self._tick_period = cfg.node.tick_ms / 1000
        self._next_tick = self.loop.time() + self._tick_period
        self._ticker = self.loop.call_at(self._next_tick, self._tick)
        if self.faults is not None:
            self.faults.start(self._bump_clock, self._break_apply)
        self._kick()
        _log.info(
            "node %d serving: clients %s, http %s, peers %s, data %s",
            cfg.node.id,
            cfg.listen_client,
            cfg.listen_http,
            cfg.listen_peer,
            cfg.data_dir,
        )

    async def run_until_stopped(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, lambda: self.loop.create_task(self.stop()))
        await self._stopped.wait()
        if self._failed is not None:
            raise self._failed

    async def stop(self) -> None:
        """Hand leadership over, let in-flight requests finish (up to ``stop_timeout_s``), then close."""
        if self.node.stopping:
            return
        _log.info("node %d stopping", self.cfg.node.id)
        self.node.stop()
        self._kick()
        deadline = self.loop.time() + self.cfg.stop_timeout_s
        while self.loop.time() < deadline and (self.node.handover_pending() or self.node.pending_requests()):
            await asyncio.sleep(0.02)
        await self._close()

    async def _close(self) -> None:
        if self._closed:
            return
        self._closed = True  # from now on no turn runs: the committer and the log are going away
        if self._ticker is not None:
            self._ticker.cancel()
        self.obs.close()
        await self.clients.close()
        await self.peers.close()
        if self._http_runner is not None:
            await self._http_runner.cleanup()
        self.committer.close()
        self.spares.close()
        self.storage.close()
        self._stopped.set()

    def _fail(self, error: BaseException) -> None:
        if self._failed is None:
            _log.error("node %d cannot go on: %s", self.cfg.node.id, error)
            self._failed = error
            self.loop.create_task(self._close())

    def _core(self, event: Callable[..., object], *args: object) -> None:
        """Feed the node core one event. Every entry point goes through here: an exception means the core is
        broken (a bug, a broken invariant), so the process stops at once and loudly (fail-stop); a node that
        went on with a half-applied turn could answer wrongly or hang, and the others replace a dead one."""
        if self._failed is not None or self._closed:
            return
        try:
            event(*args)
        except Exception as e:
            _log.critical("node %d: the node core failed (%s: %s); stopping", self.cfg.node.id, type(e).__name__, e,
                          exc_info=True)
            self._fail(CoreFailure(f"the node core failed: {type(e).__name__}: {e}"))

    # -- events --------------------------------------------------------------------------------------------------------
    def _tick(self) -> None:
        self._core(self.node.tick)
        self._kick()
        self._next_tick += self._tick_period / (self.faults.clock_rate() if self.faults else 1.0)
        now = self.loop.time()
        if self._next_tick < now:  # the loop fell behind: skip ticks rather than burst them
            self._next_tick = now + self._tick_period
        self._ticker = self.loop.call_at(self._next_tick, self._tick)

    def _bump_clock(self, ms: float) -> None:
        """Debug only: jump the node's clock (its tick count) forward, or hold it back for ``-ms``."""
        if ms > 0:
            for _ in range(int(ms / self.cfg.node.tick_ms)):
                self._core(self.node.tick)
            self._kick()
        elif ms < 0 and self._ticker is not None:
            self._ticker.cancel()
            self._next_tick = self.loop.time() - ms / 1000
            self._ticker = self.loop.call_at(self._next_tick, self._tick)

    def _break_apply(self) -> None:
        """Debug only: make every state machine of this node raise on its next apply."""

        def fail(cmds: list) -> tuple[list, list]:
            raise RuntimeError(f"debug fault: apply of {len(cmds)} commands failed")

        for group in self.node.groups.values():
            group.sm.apply = fail  # type: ignore[method-assign]

    def _on_messages(self, msgs: list[GroupMessage]) -> None:
        self._core(self.node.receive, msgs)
        self.obs.traces()
        self._kick()

    def _on_unreachable(self, peer: int) -> None:
        self._core(self.node.unreachable, peer)

    def _on_request(self, conn: int, req: Request) -> None:
        self.obs.request(conn, req)
        self._core(self.node.request, conn, req)
        self._kick()

    def _on_disconnect(self, conn: int) -> None:
        self._core(self.node.disconnect, conn)

    def _on_persisted(self, token: int, error: BaseException | None) -> None:
        with self.obs.applying():
            self._core(self.node.persisted, token, error)
        self._kick()

    # -- the turn ------------------------------------------------------------------------------------------------------
    def _kick(self) -> None:
        if not self._turn_scheduled and self._failed is None and not self._closed:
            self._turn_scheduled = True
            self.loop.call_soon(self._turn)

    def _turn(self) -> None:
        self._turn_scheduled = False
        if self._closed:
            return
        out = None

        def drain() -> None:
            nonlocal out
            out = self.node.drain()

        self._core(drain)
        if out is None:
            return
        self.obs.turn(out)
        for to, msgs in out.messages.items():
            self.peers.send(to, msgs)
        if out.persist and out.batch is not None:
            token, loop = out.persist, self.loop
            self.committer.submit(out.batch, lambda err: loop.call_soon_threadsafe(self._on_persisted, token, err))
        if out.replies:
            by_conn: dict[int, list[Response]] = defaultdict(list)
            for conn, resp in out.replies:
                if self.gateway.owns(conn):
                    self.gateway.deliver(conn, resp.reply)
                else:
                    by_conn[conn].append(resp)
            self.clients.deliver(by_conn)
        if self.node.failed is not None:
            self._fail(self.node.failed)

    def _node_info(self) -> dict:
        st = self.node.status()
        return {"id": st.id, "leader": st.leader, "term": st.term, "is_leader": st.is_leader}


async def serve(cfg: ServerConfig) -> None:
    setup_logging(cfg.log_level, cfg.log_format, cfg.node.id)
    # The commit thread needs the GIL right after fdatasync; a short switch interval keeps commits prompt.
    sys.setswitchinterval(0.0005)
    server = Server(cfg)
    await server.start()
    # Everything made so far (modules, classes, the recovered state) lives as long as the process: keep the
    # cyclic collector from walking it again in every full collection, which paused the loop for 30-40 ms.
    gc.freeze()
    await server.run_until_stopped()


def run(cfg: ServerConfig) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency; plain asyncio still works
        asyncio.run(serve(cfg))
    else:
        uvloop.run(serve(cfg))
