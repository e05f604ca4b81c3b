"""Every consensus record encodes with msgspec and decodes to an equal value: the server and the storage
layer rely on this to put messages on the wire and entries in the log without hand-written codecs."""

from __future__ import annotations

import msgspec
from hypothesis import given, strategies as st

from tandemdb.raft.types import (
    ConfChange,
    ConfChangeSingle,
    ConfChangeTransition,
    ConfChangeType,
    ConfState,
    Entry,
    HardState,
    Message,
    MessageType,
    Snapshot,
    SnapshotMeta,
)

ids = st.integers(min_value=1, max_value=2**63 - 1)
u64 = st.integers(min_value=0, max_value=2**63 - 1)
entries = st.builds(Entry, term=u64, index=u64, type=st.sampled_from([0, 1]), data=st.binary(max_size=64))
conf_states = st.builds(
    ConfState,
    voters=st.tuples(ids, ids),
    learners=st.tuples(ids),
    voters_outgoing=st.just(()),
    learners_next=st.just(()),
    auto_leave=st.booleans(),
)
snapshots = st.builds(Snapshot, meta=st.builds(SnapshotMeta, index=u64, term=u64, conf_state=conf_states),
                      data=st.binary(max_size=64))
messages = st.builds(
    Message,
    type=st.sampled_from([t for t in MessageType if t >= MessageType.PROP]),
    to=ids,
    frm=ids,
    term=u64,
    log_term=u64,
    index=u64,
    entries=st.lists(entries, max_size=5),
    commit=u64,
    reject=st.booleans(),
    reject_hint=u64,
    context=st.binary(max_size=16),
    snapshot=st.none() | snapshots,
    snap_offset=u64,
    snap_size=u64,
)


@given(messages)
def test_messages_round_trip_through_msgpack(m: Message) -> None:
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(m), type=Message) == m


@given(st.lists(entries, max_size=20))
def test_entry_batches_round_trip(ents: list[Entry]) -> None:
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(ents), type=list[Entry]) == ents


def test_hard_state_and_conf_change_round_trip() -> None:
    hs = HardState(term=7, vote=3, commit=42)
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(hs), type=HardState) == hs
    cc = ConfChange(
        (ConfChangeSingle(ConfChangeType.ADD_NODE, 4), ConfChangeSingle(ConfChangeType.REMOVE_NODE, 1)),
        transition=ConfChangeTransition.JOINT_EXPLICIT,
        context=b"ctx",
    )
    assert ConfChange.decode(cc.encode()) == cc


def test_a_malformed_message_is_a_decode_error_not_a_crash() -> None:
    try:
        msgspec.msgpack.decode(b"\x93\x01\x02", type=Message)
    except msgspec.ValidationError:
        pass
    else:  # pragma: no cover
        raise AssertionError("malformed message decoded")
