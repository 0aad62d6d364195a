"""Wire messages (node/p2p/messages.py) round-trip and refuse what is not one; the CLI's network arguments."""

from __future__ import annotations

import pytest

from chain.errors import DecodeError, UsageError
from node.daemon import parse_validator_share
from node.p2p import gossip
from node.p2p import messages as m
from node.p2p.service import parse_address

SAMPLES = [
    m.Status(m.PROTOCOL_VERSION, 0xC4A1, b"g" * 32, b"h" * 32, 7, 2**200, 3, b"f" * 32, 4, b"n" * 32, 20001),
    m.Ping(9), m.Pong(2**64 - 1), m.Goodbye(m.GOODBYE_BANNED, "sent invalid block"),
    m.Gossip("/chaintop/c4a1/6767676767676767/blocks", 1_700_000_000_000_000, b"\x00" * 1000),
    m.Request(5, m.BLOCKS_BY_RANGE, m.encode_range(10, 64)),
    m.Response(5, m.SUCCESS, True, (b"a", b"bc")), m.Response(6, m.RESOURCE_UNAVAILABLE, True),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda x: type(x).__name__)
def test_every_message_round_trips(msg):
    assert m.decode(m.encode(msg)) == msg


@pytest.mark.parametrize(("data", "code"), [
    (b"", "truncated"),
    (b"\x63", "unknown-message"),
    (m.encode(m.Ping(1)) + b"\x00", "trailing-bytes"),
    (m.encode(m.Ping(1))[:-1], "truncated"),
    (b"\x07" + (1).to_bytes(4, "big") + b"\x00\x01" + (m.MAX_ITEMS + 1).to_bytes(2, "big"),
     "length-out-of-bounds"),
    (b"\x07" + (1).to_bytes(4, "big") + b"\x00\x02\x00\x00", "bad-flag"),
    (b"\x02" + b"\x00" * (m.MAX_FRAME + 1), "oversized"),
])
def test_what_is_not_a_message_is_refused(data, code):
    with pytest.raises(DecodeError) as e:
        m.decode(data)
    assert e.value.code == code


def test_request_bodies_are_bounded():
    assert m.decode_range(m.encode_range(3, m.MAX_RANGE)) == (3, m.MAX_RANGE)
    with pytest.raises(DecodeError, match="bad-range"):
        m.decode_range(m.encode_range(3, m.MAX_RANGE + 1))
    with pytest.raises(DecodeError, match="bad-roots"):
        m.decode_roots(m.encode_roots([]))
    assert m.decode_roots(m.encode_roots([b"r" * 32])) == [b"r" * 32]


def test_response_chunks_stay_within_the_limits():
    items = [b"x" * 1_000_000] * 7 + [b"y"] * 600
    chunks = m.chunk_items(items)
    assert [x for c in chunks for x in c] == items
    assert all(len(c) <= m.MAX_ITEMS and sum(map(len, c)) <= m.MAX_RESPONSE_BYTES for c in chunks)
    assert m.chunk_items([]) == [[]]


def test_topics_carry_the_chain_id_and_genesis():
    topic = gossip.topic_name(0xC4A1, b"\xab" * 32, gossip.VOTES)
    assert topic == "/chaintop/c4a1/abababababababab/votes"
    assert gossip.topic_kind(topic, 0xC4A1, b"\xab" * 32) == gossip.VOTES
    assert gossip.topic_kind(topic, 0xC4A2, b"\xab" * 32) is None  # another chain's
    assert gossip.topic_kind(topic, 0xC4A1, b"\xac" * 32) is None  # another genesis
    assert gossip.topic_kind(topic[:-5] + "other", 0xC4A1, b"\xab" * 32) is None


def test_addresses_and_validator_shares():
    assert parse_address("10.0.0.5:20001") == ("10.0.0.5", 20001)
    assert parse_address(":20001") == ("127.0.0.1", 20001)
    assert parse_address("127.0.0.1:0", allow_zero=True) == ("127.0.0.1", 0)
    for bad in ("127.0.0.1", "127.0.0.1:0", "host:70000", "a b:1", "x:y"):
        with pytest.raises(UsageError, match="bad-address"):
            parse_address(bad)
    assert parse_validator_share("all") is None
    assert parse_validator_share("none") == (frozenset(), 1)
    assert parse_validator_share("1,3/4") == (frozenset({1, 3}), 4)
    for bad in ("4/4", "1/", "/4", "a/4", "-1/4"):
        with pytest.raises(UsageError, match="bad-validators"):
            parse_validator_share(bad)


def test_a_status_names_its_version_before_its_layout():
    frame = m.encode(SAMPLES[0])
    assert m.status_version(frame) == m.PROTOCOL_VERSION
    other = frame[:1] + (1).to_bytes(2, "big") + frame[3:-8]  # an older release's shorter Status
    assert m.status_version(other) == 1
    with pytest.raises(DecodeError):
        m.decode(other)
    assert m.status_version(m.encode(m.Ping(1))) is None
