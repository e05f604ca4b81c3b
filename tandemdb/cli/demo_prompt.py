"""The console of ``tandem demo``: look at the cluster, stop, kill and restart nodes, read and write keys."""

from __future__ import annotations

import inspect
import select
import shlex
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..tools.local_cluster import ClusterError, LocalCluster, NodeState

if TYPE_CHECKING:
    from ..client import Client

HELP = """\
commands:
  status            every node: pid, up/down, role, the leader it knows, term, commit and applied index
  stop ID           stop node ID gracefully (SIGTERM; a leader hands over first)
  kill ID           kill node ID (SIGKILL)
  start ID          start node ID again on its data directory
  put KEY VALUE     write a key
  get KEY           read a key (linearizable)
  watch-leader      print leader changes until you press Enter
  help              this text
  quit              stop every node gracefully and exit (Ctrl-C and Ctrl-D too)"""


def status_table(states: list[NodeState]) -> str:
    rows: list[tuple[str, ...]] = [("ID", "ENDPOINT", "PID", "STATE", "ROLE", "LEADER", "TERM", "COMMIT", "APPLIED")]
    for s in states:
        st = s.status or {}
        state = "up" if s.up else "down" if not s.running else "no answer"
        role = ("leader" if st["is_leader"] else "learner" if st["is_learner"] else "follower") if st else "-"
        rows.append((
            str(s.spec.id), s.spec.client, str(s.pid or "-"), state, role,
            str(st.get("leader") or "-"),
            *(str(st.get(k, "-")) for k in ("term", "commit_index", "applied_index")),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


class Prompt:
    def __init__(self, cluster: LocalCluster, on_pids_changed: Callable[[], None]) -> None:
        self.cluster = cluster
        self.on_pids_changed = on_pids_changed
        self._client: Client | None = None

    def run(self) -> None:
        click.echo("type 'help' for the commands")
        try:
            while True:
                try:
                    line = input("tandem> ")
                except EOFError:
                    click.echo()
                    return
                try:
                    args = shlex.split(line)
                except ValueError as e:
                    click.echo(f"error: {e}")
                    continue
                if args and not self.execute(args):
                    return
        finally:
            if self._client is not None:
                self._client.close()

    def execute(self, args: list[str]) -> bool:
        """Run one command; False means quit."""
        from ..client.errors import TandemError

        cmd, rest = args[0], args[1:]
        handlers: dict[str, Callable[..., None]] = {
            "status": self.status, "stop": self.stop, "kill": self.kill, "start": self.start, "put": self.put,
            "get": self.get, "watch-leader": self.watch_leader, "help": self.help,
        }
        handler = handlers.get(cmd)
        if cmd in ("quit", "exit"):
            return False
        if handler is None:
            click.echo(f"unknown command {cmd!r}; type 'help'")
            return True
        try:
            inspect.signature(handler).bind(*rest)
        except TypeError:
            click.echo(f"wrong arguments for {cmd}; type 'help'")
            return True
        try:
            handler(*rest)
        except (ClusterError, TandemError, ValueError) as e:
            click.echo(f"error: {e}")
        return True

    # -- commands ----------------------------------------------------------------------------------------------
    def help(self) -> None:
        click.echo(HELP)

    def status(self) -> None:
        click.echo(status_table(self.cluster.status()))

    def stop(self, node_id: str) -> None:
        nid = self._node(node_id)
        code = self.cluster.stop(nid)
        click.echo(f"node {nid} " + ("was not running" if code is None else f"stopped (exit status {code})"))
        self.on_pids_changed()

    def kill(self, node_id: str) -> None:
        nid = self._node(node_id)
        code = self.cluster.kill(nid)
        click.echo(f"node {nid} " + ("was not running" if code is None else "killed"))
        self.on_pids_changed()

    def start(self, node_id: str) -> None:
        nid = self._node(node_id)
        pid = self.cluster.start(nid)
        click.echo(f"node {nid} started, pid {pid}")
        self.on_pids_changed()

    def put(self, key: str, value: str) -> None:
        res = self.client().put(key, value)
        click.echo(f"OK (revision {res.revision})")

    def get(self, key: str) -> None:
        kvs = self.client().get(key).kvs
        if not kvs:
            click.echo("(not found)")
        for kv in kvs:
            click.echo(kv.value.decode(errors="replace"))

    def watch_leader(self) -> None:
        click.echo("watching the leader; press Enter to stop")
        last: object = object()
        while True:
            leader = self.cluster.leader()
            if leader != last:
                stamp = time.strftime("%H:%M:%S")
                click.echo(f"{stamp} " + (f"leader is node {leader}" if leader else "no leader"))
                last = leader
            ready, _, _ = select.select([sys.stdin], [], [], 0.2)
            if ready:
                sys.stdin.readline()
                return

    # -- helpers -------------------------------------------------------------------------------------------------
    def client(self) -> Client:
        if self._client is None:
            from ..client import Client

            self._client = Client(self.cluster.endpoints(), timeout=5.0)
        return self._client

    def _node(self, text: str) -> int:
        if not text.isdigit() or int(text) not in self.cluster.nodes:
            raise ValueError(f"no node {text!r}; nodes are {', '.join(map(str, self.cluster.nodes))}")
        return int(text)
