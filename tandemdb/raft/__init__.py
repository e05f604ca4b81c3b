"""Raft consensus as a pure, deterministic state machine (no clock, socket, thread, file or global random).

The API follows etcd-io/raft's RawNode (``tandemdb.raft.rawnode``): ``step``, ``tick``, ``propose``,
``propose_conf_change``, ``read_index``, ``transfer_leader``, then ``ready()`` / ``advance()``. Wire and log
records live in ``tandemdb.raft.types``; the storage interface in ``tandemdb.raft.storage``.
"""
