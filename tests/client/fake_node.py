"""A fake Tandem node for client tests: an asyncio server speaking the client protocol over a real KVStore.

Nodes of a ``FakeCluster`` share one store, so a client may fail over between them. Like real followers, a
node with ``redirect_to`` set serves reads and watches but redirects writes and leader-only requests there. A
node can be told to refuse the hello, to misbehave on its next requests (``fail_next``: ``"drop"``
closes the connection before applying, ``"drop_after_apply"`` after applying, an ``Error`` is sent as the
reply), to hold writes until released (``hold``), or to replay watches from revision 1 (duplicates the client
must filter).
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
from collections import Counter

import msgspec

from tandemdb.kv import KVStore
from tandemdb.kv.commands import (
    Compact,
    DeleteRange,
    LeaseGrant,
    LeaseRevoke,
    Put,
    Range,
    Txn,
)
from tandemdb.kv.index import in_span
from tandemdb.kv.results import ErrorResult, Event, Result
from tandemdb.node import commands as group_commands
from tandemdb.node.backup import Backup, encode_backup
from tandemdb.node.commands import GroupState
from tandemdb.node.sessions import SessionTable
from tandemdb.raft.types import ConfState
from tandemdb.wire.client_api import (
    CLIENT_MAGIC,
    ClientHello,
    Error,
    ErrorKind,
    LeaseKeepAlive,
    LeaseList,
    LeaseListResult,
    LeaseTimeToLive,
    LeaseTTLResult,
    Member,
    MemberAdd,
    MemberList,
    MemberListResult,
    MemberPromote,
    MemberRemove,
    MemberResult,
    MemberStatus,
    MoveLeader,
    OkResult,
    Request,
    Response,
    SnapshotResult,
    SnapshotSave,
    Status,
    StatusResult,
    WatchCancel,
    WatchCreate,
    WatchEvents,
    decode_hello,
    decode_request,
    encode,
)
from tandemdb.wire.frames import FrameDecoder, encode_frame

WRITES = (Put, DeleteRange, Txn, LeaseGrant, LeaseRevoke, Compact)
LEADER_ONLY = (*WRITES, LeaseKeepAlive, LeaseTimeToLive, MemberAdd, MemberRemove, MemberPromote, MoveLeader)


class FakeStore:
    """What the nodes of one fake cluster share: the KV state, the members, the watches of every node."""

    def __init__(self) -> None:
        self.kv = KVStore()
        self.sessions = SessionTable(Result)  # exactly-once retries, as a real group keeps them
        self.members: list[MemberStatus] = []
        self.watchers: list[_Watcher] = []

    async def end_watches(self, reason: str) -> None:
        """Once a watch exists, cancel every watch, as a node does when it cannot serve them any more."""
        while not self.watchers:
            await asyncio.sleep(0.01)
        for w in self.watchers:
            w.node.send(w.writer, w.id, WatchEvents(w.id, self.kv.revision, canceled=True, reason=reason))
        self.watchers.clear()

    def apply(self, op, client_id: int = 0, seq: int = 0):
        if client_id:
            again = self.sessions.replay(client_id, seq)
            if again is not None:
                return again
        [result], events = self.kv.apply([op])
        if client_id:
            self.sessions.record(client_id, seq, result)
        for revision in sorted({e.kv.mod_revision for e in events}):
            for watcher in list(self.watchers):
                watcher.notify(revision, [e for e in events if e.kv.mod_revision == revision])
        return result


class _Watcher:
    def __init__(self, node: FakeNode, writer: asyncio.StreamWriter, request_id: int, op: WatchCreate) -> None:
        self.node, self.writer, self.id, self.op = node, writer, request_id, op

    def notify(self, revision: int, events: list[Event]) -> None:
        mine = [e if self.op.prev_kv else Event(e.type, e.kv) for e in events if self.matches(e)]
        if mine:
            self.node.send(self.writer, self.id, WatchEvents(self.id, revision, mine))

    def matches(self, event: Event) -> bool:
        return in_span(event.kv.key, self.op.key, self.op.range_end)


class FakeNode:
    def __init__(self, store: FakeStore, node_id: int) -> None:
        self.store = store
        self.id = node_id
        self.endpoint = ""
        self.requests: list[Request] = []  # every request received, in order
        self.redirect_to = ""  # answer NOT_LEADER with this leader endpoint
        self.hello_error: Error | None = None
        self.hold: asyncio.Event | None = None  # writes wait for it to be set
        self.replay_watches = False
        self.outstanding = Counter()  # client_id -> writes received and not yet answered
        self.overlaps = 0  # writes received while another of the same client_id was outstanding
        self._faults: list[str | Error] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task] = set()
        self._serving: set[asyncio.Task] = set()  # one per connection

    def fail_next(self, *faults: str | Error) -> None:
        self._faults.extend(faults)

    def clear_faults(self) -> None:
        self._faults.clear()

    async def start(self, port: int = 0) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.endpoint = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self.endpoint

    async def stop(self) -> None:
        """Stop listening and drop every connection (a crash, as clients see it)."""
        self._server.close()
        await self._server.wait_closed()
        self.drop_connections()
        await asyncio.gather(*self._serving, return_exceptions=True)

    def drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.close()
        self.store.watchers = [w for w in self.store.watchers if w.node is not self]

    def send(self, writer: asyncio.StreamWriter, request_id: int, reply) -> None:
        if not writer.is_closing():
            writer.write(encode_frame(encode(Response(request_id, reply))))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self._serving.add(asyncio.current_task())
        decoder = FrameDecoder()
        hello_done = False
        try:
            while data := await reader.read(1 << 16):
                for payload in decoder.feed(data):
                    if not hello_done:
                        hello_done = True
                        if not self._hello(writer, decode_hello(payload)):
                            return
                        continue
                    request = decode_request(payload)
                    self.requests.append(request)
                    task = asyncio.create_task(self._handle(writer, request))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            self._serving.discard(asyncio.current_task())
            writer.close()

    def _hello(self, writer: asyncio.StreamWriter, hello: ClientHello) -> bool:
        if self.hello_error is not None:
            self.send(writer, 0, self.hello_error)
            return False
        writer.write(encode_frame(encode(ClientHello(CLIENT_MAGIC, hello.version, self.id))))
        return True

    async def _handle(self, writer: asyncio.StreamWriter, request: Request) -> None:
        op = request.op
        if isinstance(op, Status):
            return self.send(writer, request.id, self._status())
        if self.redirect_to and isinstance(op, LEADER_ONLY):
            error = Error(ErrorKind.NOT_LEADER, "not the leader", 0, self.redirect_to)
            return self.send(writer, request.id, error)
        fault = self._faults.pop(0) if self._faults else None
        if fault == "drop":
            return writer.close()
        if isinstance(fault, Error):
            return self.send(writer, request.id, fault)
        if isinstance(op, WRITES) and request.client_id:
            reply = await self._write(op, request.client_id, request.seq)
        else:
            reply = self._answer(writer, request)
        if fault == "drop_after_apply":
            return writer.close()
        if reply is not None:
            self.send(writer, request.id, reply)

    async def _write(self, op, client_id: int, seq: int):
        if self.outstanding[client_id]:
            self.overlaps += 1
        self.outstanding[client_id] += 1
        try:
            if self.hold is not None:
                await self.hold.wait()
            return self.store.apply(op, client_id, seq)
        finally:
            self.outstanding[client_id] -= 1

    def _answer(self, writer: asyncio.StreamWriter, request: Request):
        """The reply to a request that needs no waiting (None: sent already, or nothing to send)."""
        op, kv = request.op, self.store.kv
        match op:
            case Range():
                return kv.range(op)
            case Put() | DeleteRange() | Txn() | LeaseGrant() | LeaseRevoke() | Compact():
                return self.store.apply(op)
            case LeaseKeepAlive() | LeaseTimeToLive():
                lease = kv.lease(op.id)
                if lease is None:
                    return LeaseTTLResult(op.id, -1)
                keys = lease.keys if isinstance(op, LeaseTimeToLive) and op.keys else []
                return LeaseTTLResult(op.id, lease.ttl_s, lease.ttl_s, keys)
            case LeaseList():
                return LeaseListResult([lease.id for lease in kv.leases()])
            case WatchCreate():
                return self._watch(writer, request.id, op)
            case WatchCancel():
                for watcher in [w for w in self.store.watchers if w.id == op.watch_id and w.writer is writer]:
                    self.store.watchers.remove(watcher)
                    self.send(writer, op.watch_id, WatchEvents(op.watch_id, kv.revision, canceled=True))
                return OkResult()
            case MemberList():
                return MemberListResult(self.store.members)
            case MemberAdd():
                member = op.member
                if not member.id:
                    member = msgspec.structs.replace(member, id=max(m.member.id for m in self.store.members) + 1)
                self.store.members.append(MemberStatus(member, op.learner))
                return MemberResult(member, self.store.members)
            case MemberRemove() | MemberPromote():
                return self._change_member(op)
            case MoveLeader():
                return OkResult()
            case SnapshotSave():
                return SnapshotResult(kv.revision + 10, kv.revision, self._backup(kv.revision + 10))
        return Error(ErrorKind.BAD_REQUEST, f"unsupported: {type(op).__name__}")

    def _watch(self, writer: asyncio.StreamWriter, request_id: int, op: WatchCreate) -> None:
        kv = self.store.kv
        start = 1 if self.replay_watches else op.start_revision or kv.revision + 1
        history = kv.events(start, op.key, op.range_end, prev_kv=op.prev_kv)
        if isinstance(history, ErrorResult):
            reply = WatchEvents(request_id, kv.revision, created=True, canceled=True,
                                compact_revision=history.compact_revision, reason=history.message)
            return self.send(writer, request_id, reply)
        self.send(writer, request_id, WatchEvents(request_id, kv.revision, created=True))
        if history:
            self.send(writer, request_id, WatchEvents(request_id, kv.revision, history))
        self.store.watchers.append(_Watcher(self, writer, request_id, op))

    def _backup(self, index: int) -> bytes:
        members = [s.member for s in self.store.members]
        state = group_commands.encode(GroupState(self.store.kv.snapshot(), members, self.store.sessions.snapshot()))
        conf = ConfState(voters=tuple(m.id for m in members))
        backup = Backup(cluster_id=1, group=1, index=index, revision=self.store.kv.revision, conf_state=conf,
                        state=state)
        return encode_backup(backup)

    def _change_member(self, op):
        for i, status in enumerate(self.store.members):
            if status.member.id == op.id:
                if isinstance(op, MemberRemove):
                    del self.store.members[i]
                else:
                    self.store.members[i] = MemberStatus(status.member, False)
                return MemberResult(status.member, self.store.members)
        return Error(ErrorKind.NOT_FOUND, f"member {op.id} not found")

    def _status(self) -> StatusResult:
        kv = self.store.kv
        member = next((m.member for m in self.store.members if m.member.id == self.id), Member(self.id, ""))
        leader = not self.redirect_to
        stats = kv.stats()
        return StatusResult(self.id, member, 1, self.id if leader else 0, leader, False, 2, 7, 7,
                            kv.revision, stats.keys, stats.approx_bytes, "test")


class FakeCluster:
    """``size`` fake nodes over one store; node 0 is the leader, the others redirect to it."""

    def __init__(self, size: int = 1) -> None:
        self.store = FakeStore()
        self.nodes = [FakeNode(self.store, i + 1) for i in range(size)]

    async def start(self) -> list[str]:
        for node in self.nodes:
            await node.start()
        for node in self.nodes:
            self.store.members.append(MemberStatus(Member(node.id, f"127.0.0.1:{7000 + node.id}", node.endpoint,
                                                          region="r1", zone=f"z{node.id}"), False))
            if node is not self.nodes[0]:
                node.redirect_to = self.nodes[0].endpoint
        return self.endpoints

    @property
    def endpoints(self) -> list[str]:
        return [node.endpoint for node in self.nodes]

    async def stop(self) -> None:
        for node in self.nodes:
            await node.stop()


class Background:
    """An event loop in a thread: fake nodes serve from it while a blocking client or the CLI runs in the test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def call(self, fn, *args):
        """Run a plain function on the loop's thread (to touch the fakes safely)."""

        async def wrapper():
            return fn(*args)

        return self.run(wrapper())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


def async_test(fn):
    """Run an async test function in a fresh event loop (with a generous bound against hangs)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), 15))

    return wrapper


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
