"""Fuzzing the frame decoder and the message decoders that sit behind it: any byte stream gives whole
payloads, a ``FrameError``, or a decode error that the server turns into a reply; never anything else."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings, strategies as st

from tandemdb.wire.client_api import decode_hello as decode_client_hello, decode_request
from tandemdb.wire.frames import FrameDecoder, FrameError, encode_frame
from tandemdb.wire.peer import decode_batch, decode_hello

DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError)


@given(st.lists(st.binary(max_size=300), max_size=20), st.data())
def test_frames_split_anywhere_come_out_whole_and_in_order(payloads: list[bytes], data) -> None:
    stream = b"".join(encode_frame(p) for p in payloads)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    dec = FrameDecoder()
    out: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += dec.feed(stream[start:end])
    assert out == payloads and dec.buffered == 0


@given(st.binary(max_size=2000))
@settings(max_examples=300)
def test_random_bytes_give_frames_or_a_frame_error(stream: bytes) -> None:
    dec = FrameDecoder(max_frame=1 << 16)
    try:
        frames = dec.feed(stream)
    except FrameError:
        return
    assert sum(4 + len(f) for f in frames) + dec.buffered == len(stream)


def test_a_frame_above_the_limit_is_refused_before_it_is_buffered() -> None:
    dec = FrameDecoder(max_frame=100)
    with pytest.raises(FrameError, match="exceeds"):
        dec.feed((101).to_bytes(4, "big"))


@pytest.mark.parametrize("decode", [decode_request, decode_client_hello, decode_batch, decode_hello])
@given(payload=st.binary(max_size=500))
@settings(max_examples=200)
def test_message_decoders_reject_garbage_with_decode_errors_only(decode, payload: bytes) -> None:
    try:
        decode(payload)
    except DECODE_ERRORS:
        pass


json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=10) | st.binary(max_size=10),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=20,
)


@pytest.mark.parametrize("decode", [decode_request, decode_batch])
@given(value=json_like)
@settings(max_examples=300)
def test_well_formed_msgpack_of_the_wrong_shape_is_a_validation_error(decode, value) -> None:
    try:
        payload = msgspec.msgpack.encode(value)
    except OverflowError:
        return
    try:
        decode(payload)
    except DECODE_ERRORS:
        pass
