"""Gossip validated before it is relayed: each kind's handler runs the object through the node and says
ACCEPT (relay it), IGNORE or REJECT (with the reason a ban will show)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chain import crypto
from chain.block import Block
from chain.codec import Reader, Writer
from chain.consensus.beacon import Attestation, AttesterSlashing, ProposerSlashing
from chain.errors import ChaintopError, DecodeError, InvalidBlock
from chain.tx import Tx
from node import events as ev
from node.p2p import gossip
from node.p2p import messages as m

if TYPE_CHECKING:
    from node.p2p.peers import Peer
    from node.p2p.protocol import Network


def now_us() -> int:
    """Gossip timestamps are microseconds of the wall clock: loopback delivers in well under a millisecond."""
    return int(time.time() * 1_000_000)


def _decode(what: str, decode, data: bytes):
    """(object, "") or (None, why): a gossiped object that does not decode is its sender's fault."""
    try:
        return decode(data), ""
    except DecodeError as e:
        return None, f"sent {what} that does not decode ({e.code})"


def _read_vote(data: bytes) -> Attestation:
    r = Reader(data)
    att = Attestation.read(r)
    r.finish()
    return att


def encode_evidence(item: ProposerSlashing | AttesterSlashing) -> bytes:
    """Evidence on the wire: a kind byte (0 double proposal, 1 double or surround vote), then its encoding."""
    w = Writer().u8(0 if isinstance(item, ProposerSlashing) else 1)
    item.write(w)
    return w.getvalue()


def _read_evidence(data: bytes) -> ProposerSlashing | AttesterSlashing:
    r = Reader(data)
    kind = r.u8()
    if kind > 1:
        raise DecodeError("unknown-evidence", f"evidence kind {kind}")
    evidence = (ProposerSlashing if kind == 0 else AttesterSlashing).read(r)
    r.finish()
    return evidence


async def on_block(net: Network, peer: Peer, msg: m.Gossip) -> tuple[str, str]:
    block, bad = _decode("a block", Block.decode, msg.data)
    if block is None:
        return gossip.REJECT, bad
    peer.blocks_received += 1
    net.seen_objects.add(block.hash)
    delay = max(0.0, (now_us() - msg.sent_at) / 1000)  # ms
    try:
        result = await net.write(net.node.accept_block, block)
        status = result.status
    except ChaintopError as e:
        status = f"ignored:{e.code}"
        verdict = gossip.classify_block_error(e) if isinstance(e, InvalidBlock) else gossip.IGNORE
        if verdict == gossip.REJECT:
            status = f"rejected:{e.code}"
    _block_received(net, block, peer, delay, status)
    if status == "ignored:unknown-parent":
        net.sync.fetch_ancestors(peer, block)
    if status.startswith("rejected:"):
        return gossip.REJECT, (f"sent invalid block {block.hash.hex()[:16]}… at height {block.height} "
                               f"({status.split(':', 1)[1]})")
    if status in ("connected", "reorg", "side"):
        await net.refresh_summary()
        return gossip.ACCEPT, ""
    return gossip.IGNORE, ""

def _block_received(net: Network, block: Block, peer: Peer, delay: float, status: str) -> None:
    h = block.header
    net.node.events.emit(ev.BlockReceived(block.height, block.hash.hex(), peer.address, round(delay, 2),
                                           status, crypto.encode_address(net.node.params.hrp, h.beneficiary),
                                           h.seal.proposer_index if h.is_pos else None))

async def on_txs(net: Network, batch: list[tuple[Peer, m.Gossip]]) -> list[tuple[str, str]]:
    """Gossiped transactions, accepted in one hand-off to the node (Node.submit_txs: signatures checked on
    every core outside the node lock, then each admitted with its own answer)."""
    results: list[tuple[str, str]] = [(gossip.IGNORE, "")] * len(batch)
    decoded = []
    for i, (peer, msg) in enumerate(batch):
        tx, bad = _decode("a transaction", Tx.decode, msg.data)
        if tx is None:
            results[i] = (gossip.REJECT, bad)
            continue
        peer.txs_received += 1
        net.seen_objects.add(tx.txid)
        decoded.append((i, tx))

    if not decoded:
        return results
    answers = await net.write(net.node.submit_txs, [tx.encode() for _, tx in decoded])
    for answer, (i, tx) in zip(answers, decoded, strict=True):
        code = (answer.get("error") or {}).get("reason")
        if code is None:
            results[i] = (gossip.ACCEPT, "")
        elif code in gossip.REJECT_TX_CODES:
            results[i] = (gossip.REJECT, f"sent invalid transaction {tx.txid.hex()[:16]}… ({code})")
    return results

async def on_vote(net: Network, peer: Peer, msg: m.Gossip) -> tuple[str, str]:
    att, bad = _decode("a vote", _read_vote, msg.data)
    if att is None:
        return gossip.REJECT, bad
    net.seen_objects.add(att.id)
    try:
        fresh = await net.write(net.node.accept_vote, att)
    except InvalidBlock as e:
        return gossip.REJECT, f"sent an invalid vote of validator {att.validator_index} ({e.code})"
    except ChaintopError:
        return gossip.IGNORE, ""
    return (gossip.ACCEPT, "") if fresh else (gossip.IGNORE, "")

async def on_evidence(net: Network, peer: Peer, msg: m.Gossip) -> tuple[str, str]:
    evidence, bad = _decode("slashing evidence", _read_evidence, msg.data)
    if evidence is None:
        return gossip.REJECT, bad
    try:
        fresh = await net.write(net.node.accept_evidence, evidence)
    except InvalidBlock as e:
        return gossip.REJECT, f"sent invalid slashing evidence ({e.code})"
    except ChaintopError:
        return gossip.IGNORE, ""
    return (gossip.ACCEPT, "") if fresh else (gossip.IGNORE, "")


HANDLERS = {gossip.BLOCKS: on_block, gossip.VOTES: on_vote, gossip.EVIDENCE: on_evidence}  # TXS: on_txs
