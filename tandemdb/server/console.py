"""The web console every node serves at ``/console/``: static files (``console/``, no build step) polling JSON.

- ``GET /v1/console/node``: this node: its groups, recent rates, peer round trips and recent events.
- ``GET /v1/console/cluster``: every member as this node sees it, each asked for ``/v1/console/node`` over
  HTTP with a short timeout: ``up`` if it answered; ``suspect`` if not, but it still answers pings or its port
  accepted the connection; ``down`` otherwise. Also each group's leader, and the members' events merged.
- ``GET /v1/console/series?node=ID``: the per-second series of the last minutes of this node, or of member ID
  (fetched from it, so the page needs no cross-origin requests).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .. import __version__

if TYPE_CHECKING:
    from .observability import Observability

STATIC_DIR = Path(__file__).with_name("console")
ASK_TIMEOUT_S = 0.8
SUSPECT_S = 3.0  # a peer that echoed a ping this recently is alive, even if its HTTP port does not answer
EVENTS_SHOWN = 50


def mount(app: web.Application, obs: Observability) -> None:
    view = _Console(obs)
    app.on_cleanup.append(view.close)
    add = app.router.add_get
    add("/console", view.redirect)
    add("/console/", view.index)
    app.router.add_static("/console/static", STATIC_DIR)
    add("/v1/console/node", view.get_node)
    add("/v1/console/cluster", view.get_cluster)
    add("/v1/console/series", view.get_series)


class _Console:
    def __init__(self, obs: Observability) -> None:
        self.obs = obs
        self.node = obs.node
        self.session: aiohttp.ClientSession | None = None

    async def close(self, app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/console/")

    async def index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    async def get_node(self, request: web.Request) -> web.Response:
        return web.json_response(self.summary())

    async def get_series(self, request: web.Request) -> web.Response:
        seconds = int(request.query.get("seconds", "300"))
        node_id = int(request.query.get("node", "0") or 0)
        if node_id in (0, self.node.cfg.id):
            return web.json_response({"node": self.node.cfg.id, "points": self.obs.series.recent(seconds)})
        url = self._http_of(node_id)
        answer = await self._ask(f"{url}/v1/console/series?seconds={seconds}") if url else None
        if not isinstance(answer, dict):
            return web.json_response({"node": node_id, "points": [], "error": "no answer"})
        return web.json_response(answer)

    async def get_cluster(self, request: web.Request) -> web.Response:
        me = self.node.cfg.id
        statuses = {s.member.id: s for g in self.node.groups.values() for s in g.membership.statuses()}
        others = [i for i in sorted(statuses) if i != me]
        answers = await asyncio.gather(*(self._ask_node(i) for i in others))
        summaries: dict[int, Any] = {me: self.summary(), **dict(zip(others, answers, strict=True))}
        nodes: list[dict[str, Any]] = []
        for node_id, status in sorted(statuses.items()):
            m, summary = status.member, summaries[node_id]
            nodes.append({"id": node_id, "http": m.http, "region": m.region, "zone": m.zone, "learner": status.learner,
                          "state": self._state(node_id, summary),
                          "summary": summary if isinstance(summary, dict) else None,
                          "rtt_ms": self._rtt_ms(node_id)})
        up = [n["summary"] for n in nodes if n["summary"]]
        events = {(e["kind"], e["group"], e["term"], e["message"]): e for s in up for e in reversed(s["events"])}
        merged = sorted(events.values(), key=lambda e: e["t"], reverse=True)[:EVENTS_SHOWN]
        return web.json_response({"served_by": me, "nodes": nodes, "groups": _groups(up), "events": merged})

    # -- this node ------------------------------------------------------------------------------------------------
    def summary(self) -> dict:
        node, obs = self.node, self.obs
        groups = []
        for _, group in sorted(node.groups.items()):
            i = group.info()
            groups.append({"group": i.group, "leader": i.leader, "is_leader": i.is_leader, "term": i.term,
                           "commit": i.commit, "applied": i.applied, "keys": i.machine.items,
                           "db_bytes": i.machine.bytes, "leader_changes": i.stats.leader_changes,
                           "proposals_failed": i.stats.proposals_failed})
        last = obs.series.points[-1] if obs.series.points else {}
        me = node.cfg.member
        return {"id": me.id, "region": me.region, "zone": me.zone, "http": me.http, "client": me.client,
                "version": __version__, "started": obs.started, "stopping": node.stopping, "groups": groups,
                "rates": {k: last.get(k, 0) for k in ("requests_per_s", "p50_ms", "p99_ms", "fsync_p99_ms")},
                "peers": {str(p): self._rtt_ms(p) for p in sorted(obs.member_ids() - {me.id})},
                "events": list(obs.events)}

    def _rtt_ms(self, peer: int) -> float | None:
        """The peer's last ping round trip, if it answered one lately."""
        seconds = self.obs.probe.last_rtt.get(peer)
        if seconds is None or not self.obs.probe.heard_within(peer, SUSPECT_S):
            return None
        return round(seconds * 1000, 3)

    def _state(self, node_id: int, summary: Any) -> str:
        if isinstance(summary, dict):
            return "up"
        if summary == "timeout" or self.obs.probe.heard_within(node_id, SUSPECT_S):
            return "suspect"
        return "down"

    # -- other members ----------------------------------------------------------------------------------------------
    def _http_of(self, node_id: int) -> str:
        for group in self.node.groups.values():
            member = group.membership.members.get(node_id)
            if member is not None and member.http:
                return member.http.rstrip("/")
        return ""

    async def _ask_node(self, node_id: int) -> dict | str:
        url = self._http_of(node_id)
        return await self._ask(f"{url}/v1/console/node") if url else "unknown"

    async def _ask(self, url: str) -> dict | str:
        """The JSON at ``url``, or why there is none: "timeout" (the port accepted but nothing came back in
        time) or "unreachable"."""
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ASK_TIMEOUT_S))
        try:
            async with self.session.get(url) as resp:
                return await resp.json() if resp.status == 200 else "unreachable"
        except TimeoutError:
            return "timeout"
        except (aiohttp.ClientError, ValueError):
            return "unreachable"


def _groups(summaries: list[dict]) -> list[dict]:
    """Each group's leader, as the up nodes report it: the claim of the highest term wins."""
    best: dict[int, dict] = {}
    for s in summaries:
        for g in s["groups"]:
            have = best.get(g["group"])
            if have is None or (g["term"], g["is_leader"]) > (have["term"], have["is_leader"]):
                best[g["group"]] = g
    return [
        {"group": k, "leader": g["leader"], "term": g["term"], "commit": g["commit"]} for k, g in sorted(best.items())
    ]
