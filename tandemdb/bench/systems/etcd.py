"""etcd: three ``etcd`` processes (Debian's ``etcd-server``; the WAL is fsynced before a write is acknowledged,
always). Driven by Go's clientv3 when Go and Debian's ``golang-etcd-server-dev`` are present (``etcd_loadgen.go``,
built once and cached; clientv3 balances over every endpoint), else from Python over gRPC: ``grpc.aio`` with the
etcd v3 stubs that ``aetcd`` ships, one channel that knows every endpoint (pick-first: the leader, then the
next one when it dies)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...tools.local_cluster import free_ports
from . import NODES
from .processes import ProcessSystem, ServerProcesses

HOST = "127.0.0.1"
CALL_TIMEOUT_S = 5.0
GO_SOURCE = Path(__file__).with_name("etcd_loadgen.go")
GOPATH = Path("/usr/share/gocode")  # where Debian's golang-*-dev packages put their sources
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tandemdb" / "bench"


class EtcdClient:
    def __init__(self, endpoints: list[str]) -> None:
        import grpc
        from aetcd.rpc import rpc_pb2, rpc_pb2_grpc

        self._pb = rpc_pb2
        self._channel = grpc.aio.insecure_channel("ipv4:" + ",".join(endpoints))
        self._kv = rpc_pb2_grpc.KVStub(self._channel)

    async def put(self, key: bytes, value: bytes) -> None:
        await self._kv.Put(self._pb.PutRequest(key=key, value=value), timeout=CALL_TIMEOUT_S)

    async def get(self, key: bytes, *, serializable: bool = False) -> None:
        await self._kv.Range(self._pb.RangeRequest(key=key, serializable=serializable), timeout=CALL_TIMEOUT_S)

    async def close(self) -> None:
        await self._channel.close()


def member_status(endpoint: str) -> tuple[int, int] | None:
    """(this member's id, the leader's id) from the endpoint's Status, or None if it does not answer."""
    import grpc
    from aetcd.rpc import rpc_pb2, rpc_pb2_grpc

    with grpc.insecure_channel(endpoint) as channel:
        try:
            status = rpc_pb2_grpc.MaintenanceStub(channel).Status(rpc_pb2.StatusRequest(), timeout=1.0)
        except grpc.RpcError:
            return None
    return status.header.member_id, status.leader


class EtcdSystem(ProcessSystem):
    name = "etcd"
    client_name = "Python grpc.aio with aetcd's etcd v3 stubs"
    native_client_name = "Go clientv3 (Debian golang-etcd-server-dev)"

    def start(self) -> None:
        if shutil.which("etcd") is None:
            raise RuntimeError("etcd is not installed (Debian: apt-get install etcd-server)")
        ports = free_ports(2 * NODES)
        self.clients = {f"n{k}": f"{HOST}:{ports[2 * k]}" for k in range(NODES)}
        peers = {f"n{k}": f"http://{HOST}:{ports[2 * k + 1]}" for k in range(NODES)}
        initial = ",".join(f"{name}={url}" for name, url in peers.items())
        self.procs = ServerProcesses()
        for name, client in self.clients.items():
            self.procs.spawn(name, [
                "etcd", "--name", name, "--data-dir", str(self.root / name),
                "--listen-client-urls", f"http://{client}", "--advertise-client-urls", f"http://{client}",
                "--listen-peer-urls", peers[name], "--initial-advertise-peer-urls", peers[name],
                "--initial-cluster", initial, "--initial-cluster-state", "new",
                "--initial-cluster-token", "tandem-bench", "--logger", "zap", "--log-level", "error",
            ], self.root / f"{name}.log")
        self.leader()

    def leader(self) -> str:
        """The name of the member that every answering member names as leader."""

        def probe() -> str | None:
            ids, leaders = {}, set()
            for name, endpoint in self.clients.items():
                if self.procs.pid(name) and (status := member_status(endpoint)) is not None:
                    ids[status[0]] = name
                    leaders.add(status[1])
            leader = leaders.pop() if len(leaders) == 1 else 0
            return ids.get(leader)

        return self.procs.wait_for(probe, "etcd leader")

    def version(self) -> str:
        out = subprocess.run(["etcd", "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0].removeprefix("etcd Version: ") if out else "unknown"

    @staticmethod
    async def connect(spec: dict) -> EtcdClient:
        return EtcdClient(spec["endpoints"])

    def native_loadgen(self) -> list[str] | None:
        if shutil.which("go") is None or not (GOPATH / "src/go.etcd.io/etcd/clientv3").is_dir():
            return None
        return [str(build_go_loadgen())]


def build_go_loadgen() -> Path:
    """The Go load generator, built in GOPATH mode against Debian's sources (offline) once per source version."""
    source = GO_SOURCE.read_bytes()
    binary = CACHE / f"etcd-loadgen-{hashlib.sha256(source).hexdigest()[:12]}"
    if binary.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": str(GOPATH), "GOCACHE": str(CACHE / "go-build")}
    built = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "main.go").write_bytes(source)
        proc = subprocess.run(["go", "build", "-o", str(built), "main.go"], cwd=tmp, env=env,
                              capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"building the Go etcd load generator failed (use --python-clients):\n{proc.stderr}")
    os.replace(built, binary)
    return binary


SYSTEM = EtcdSystem
