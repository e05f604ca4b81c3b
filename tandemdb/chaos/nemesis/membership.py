"""Membership changes and leader transfers.

``member`` removes a voter (then kills it); its heal adds a fresh node under a new id as a learner, waits for
it to catch up and promotes it, so the cluster is back to its size. ``transfer`` moves leadership to another
voter (Raft's TimeoutNow); it needs no heal. Both use the cluster's own admin API, like an operator would.
"""

from __future__ import annotations

import time

from ...client import Client, TandemError
from .base import Context, Fault, Nemesis, wait_until

_PROMOTE_TIMEOUT_S = 60.0


class Membership(Nemesis):
    name = "member"
    exclusive = True

    def begin(self, ctx: Context) -> Fault | None:
        cluster = ctx.cluster
        if len(cluster.up()) < len(cluster.nodes):
            return None  # removing a voter while another is down would leave no quorum
        target = ctx.rng.choice(ctx.members())
        with ctx.admin() as client:
            try:
                client.member_remove(target)
            except TandemError:
                if target in _members(client):
                    return None  # not removed
        cluster.kill(target)
        cluster.remove_node(target)
        return ctx.fault(self.name, "remove-readd", [target], f"removed node {target}")

    def heal(self, ctx: Context, fault: Fault) -> None:
        added = restore_membership(ctx)
        if added:
            fault.detail += f"; added node {', '.join(map(str, added))}"


def restore_membership(ctx: Context) -> list[int]:
    """Bring the cluster back to ``ctx.size`` voters: promote learners, add fresh nodes. Returns the ids added."""
    cluster = ctx.cluster
    added = []
    with ctx.admin() as client:
        members = _members(client)
        for node_id in [n for n in cluster.nodes if n not in members]:
            cluster.kill(node_id)  # left the layout's members while we were not looking
            cluster.remove_node(node_id)
        for node_id, learner in members.items():
            if learner:
                _promote(client, node_id)
        while sum(not learner for learner in _members(client).values()) < ctx.size:
            spec = cluster.add_node()
            try:
                client.member_add(
                    spec.peer,
                    learner=True,
                    id=spec.id,
                    client=spec.client,
                    http=spec.http_url,
                    region=spec.region,
                    zone=spec.zone,
                )
            except TandemError:
                if spec.id not in _members(client):
                    cluster.remove_node(spec.id)
                    time.sleep(1.0)
                    continue
            cluster.start(spec.id)
            _promote(client, spec.id)
            added.append(spec.id)
    return added


def _members(client: Client) -> dict[int, bool]:
    """Member id -> whether it is a learner, retried until the cluster answers."""

    def attempt() -> dict[int, bool] | None:
        try:
            return {m.member.id: m.learner for m in client.member_list().members}
        except TandemError:
            return None

    members = wait_until(attempt, 60.0, interval=0.5)
    if members is None:
        raise TandemError("the cluster did not list its members for 60 s")
    return members


def _promote(client: Client, node_id: int) -> None:
    def attempt() -> bool:
        try:
            client.member_promote(node_id)
            return True
        except TandemError:
            return not _members(client).get(node_id, True)  # promoted by an earlier try that timed out

    if not wait_until(attempt, _PROMOTE_TIMEOUT_S, interval=0.3):
        raise TandemError(f"node {node_id} was not promoted in {_PROMOTE_TIMEOUT_S:.0f} s")


class Transfer(Nemesis):
    name = "transfer"

    def begin(self, ctx: Context) -> Fault | None:
        leader = ctx.cluster.leader()
        others = [n for n in ctx.cluster.up() if n != leader]
        if leader is None or not others:
            return None
        target = ctx.rng.choice(sorted(others))
        fault = ctx.fault(self.name, "move-leader", [leader, target], f"leader {leader} -> {target}")
        with ctx.admin() as client:
            try:
                client.move_leader(target)
            except TandemError as e:
                fault.detail += f" (refused: {e})"
        fault.end = ctx.clock()
        return fault

    def heal(self, ctx: Context, fault: Fault) -> None:
        pass
