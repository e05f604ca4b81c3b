"""What a node is told at start: who it is, its timings and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..wire.client_api import Member

DATA_GROUP = 1  # the single data group until sharding arrives; nothing else assumes there is only one


@dataclass
class NodeConfig:
    member: Member  # this node: id, addresses, region and zone labels
    cluster_id: int = 1
    tick_ms: int = 100  # the shell ticks the node this often
    election_ticks: int = 10
    heartbeat_ticks: int = 1
    request_timeout_ms: int = 5000  # a request not answered by then gets TIMEOUT
    max_batch_commands: int = 1024  # commands per Raft entry; a turn's proposals are split into such entries
    snapshot_every: int = 10_000  # applied entries between snapshots of a group
    keep_entries: int = 5_000  # entries kept after a snapshot, so a slightly lagging follower needs no snapshot
    max_watch_events: int = 1000  # events per watch response
    promote_min_ratio: float = 0.9  # a learner is promoted only once its log reaches this share of the leader's
    session_ttl_s: int = 600  # a client's retry record is forgotten after 1 to 1.5 times this long without writes
    # Raft knobs; the defaults suit a real cluster, the simulator varies them per seed.
    check_quorum: bool = True
    pre_vote: bool = True
    lease_reads: bool = False  # serve linearizable reads from the leader's lease (needs check_quorum)
    max_clock_drift_ticks: int = 2  # with lease reads: how many ticks slower this clock may run than the others'
    max_size_per_msg: int = 1 << 20
    max_inflight_msgs: int = 256
    snapshot_chunk_size: int = 1 << 20
    quiesce_ticks: int = 3  # a leader whose group has been idle and in sync this many ticks puts it to sleep; 0: never
    record_applied: bool = False  # simulator: list every applied entry in ``Output.applied``, for its checks
    state_machine: str = "kv"  # what the node's data groups replicate (``node/machines.py``)
    bugs: frozenset[str] = field(default_factory=frozenset)

    @property
    def id(self) -> int:
        return self.member.id

    def ticks(self, ms: int) -> int:
        return max(1, -(-ms // self.tick_ms))
