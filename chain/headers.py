"""Header rules against the parent: version, height and engine; then PoW's (bits, median time past, the
future limit, the hash) or PoS's (slot order and timing, no PoW fields). `now` is the caller's clock."""

from __future__ import annotations

from collections.abc import Callable

from chain.abc import BlockIndex
from chain.block import ENGINE_POS, ENGINE_POW, HEADER_VERSION, Header
from chain.consensus import pow as pow_rules
from chain.consensus.process import block_slot
from chain.consensus.schedule import compute_slot_start_time, get_slot_origin, is_pos_height
from chain.errors import InvalidBlock
from chain.params import Params

SLOT_TOLERANCE = 0.5  # seconds a PoS block may arrive before its slot starts (clock skew)
GetMedianTimePast = Callable[[BlockIndex], int]  # pow.get_median_time_past of a block (the chain caches it)


def check_header(header: Header, parent: BlockIndex, params: Params, get_mtp: GetMedianTimePast,
                 get_ancestor: pow_rules.GetAncestor, now: float) -> None:
    if header.version != HEADER_VERSION:
        raise InvalidBlock("bad-version", f"header version {header.version}")
    if header.height != parent.height + 1:
        raise InvalidBlock("bad-height",
                           f"height {header.height} does not follow its parent's {parent.height}")
    expected_engine = ENGINE_POS if is_pos_height(params, header.height) else ENGINE_POW
    if header.engine != expected_engine:
        kind = "proof of stake" if expected_engine == ENGINE_POS else "proof of work"
        raise InvalidBlock("bad-engine", f"height {header.height} on this network is produced by {kind}")
    if header.is_pos:
        check_pos_header(header, parent, params, get_ancestor, now)
    else:
        check_pow_header(header, parent, params, get_mtp, get_ancestor, now)


def check_pow_header(header: Header, parent: BlockIndex, params: Params, get_mtp: GetMedianTimePast,
                     get_ancestor: pow_rules.GetAncestor, now: float) -> None:
    expected = pow_rules.get_next_bits(get_ancestor, parent, params)
    if header.bits != expected:
        raise InvalidBlock("bad-diffbits", f"bits {header.bits:#010x}, the rules require {expected:#010x}")
    mtp = get_mtp(parent)
    if header.timestamp <= mtp:
        raise InvalidBlock("time-too-old",
                           f"timestamp {header.timestamp} is not above the median time past {mtp}")
    limit = int(now) + params.max_future_time
    if header.timestamp > limit:
        raise InvalidBlock("time-too-new",
                           f"timestamp {header.timestamp} is more than {params.max_future_time} s ahead")
    pow_limit = pow_rules.bits_to_target(params.pow_limit_bits)
    if not pow_rules.check_proof_of_work(header.hash, header.bits, pow_limit):
        raise InvalidBlock("high-hash", "the block hash is above the target: proof of work not met")


def check_pos_header(header: Header, parent: BlockIndex, params: Params, get_ancestor: pow_rules.GetAncestor,
                     now: float) -> None:
    slot, parent_slot = header.seal.slot, block_slot(parent.header)
    if slot <= parent_slot:
        raise InvalidBlock("bad-slot", f"slot {slot} is not after its parent's slot {parent_slot}")
    start = compute_slot_start_time(get_slot_origin(params, get_ancestor, parent), slot, params)
    if start > now + SLOT_TOLERANCE:
        raise InvalidBlock("slot-in-future", f"slot {slot} has not started yet")
    if header.timestamp != int(start):
        raise InvalidBlock("bad-timestamp", "a PoS block's timestamp is its slot's start time")
    if header.bits or header.nonce:
        raise InvalidBlock("bad-seal", "a PoS header carries no proof-of-work fields")
