"""JSON-ready views of chain objects: the one place where bytes become hex and amounts gain *_coins."""

from __future__ import annotations

from chain.abc import BlockIndex
from chain.block import Block, Header
from chain.consensus import pow as pow_rules
from chain.consensus.staking import get_stake, get_unstake
from chain.crypto import encode_address
from chain.params import Params, format_coins
from chain.state import Account
from chain.tx import KIND_NAMES, STAKE, TRANSFER, UNSTAKE, Tx, get_transfer


def coins(units: int) -> str:
    return format_coins(units)


def tx_view(tx: Tx, params: Params) -> dict:
    out = {
        "txid": tx.txid.hex(),
        "kind": KIND_NAMES.get(tx.kind, str(tx.kind)),
        "from": encode_address(params.hrp, tx.sender_address),
        "nonce": tx.nonce,
        "fee": tx.fee,
        "fee_coins": coins(tx.fee),
        "fee_rate": round(tx.fee_rate, 3),
        "size": tx.size,
    }
    if tx.kind == TRANSFER:
        t = get_transfer(tx)
        out.update(to=encode_address(params.hrp, t.to), amount=t.amount, amount_coins=coins(t.amount))
    elif tx.kind == STAKE:
        stake = get_stake(tx)
        out.update(amount=stake.amount, amount_coins=coins(stake.amount),
                   validator_pubkey=stake.validator_pubkey.hex())
    elif tx.kind == UNSTAKE:
        out["validator_index"] = get_unstake(tx).validator_index
    return out


def header_fields(idx: BlockIndex, params: Params) -> dict:
    h = idx.header
    return {
        "height": h.height,
        "hash": h.hash.hex(),
        "parent": h.parent.hex(),
        "timestamp": h.timestamp,
        "version": h.version,
        "tx_root": h.tx_root.hex(),
        "state_root": h.state_root.hex(),
        "beneficiary": encode_address(params.hrp, h.beneficiary),
        "bits": f"{h.bits:08x}",
        "nonce": h.nonce,
        "difficulty": difficulty(h.bits, params),
        "chain_work": f"{idx.chain_work:x}",
        "n_tx": idx.n_tx,
    } | seal_fields(h)


def seal_fields(h: Header) -> dict:
    """Which engine sealed the block; a PoS block's slot and proposer (its bits and nonce are zero)."""
    if h.is_pos:
        return {"engine": "pos", "slot": h.seal.slot, "proposer_index": h.seal.proposer_index}
    return {"engine": "pow"}


def block_view(block: Block, idx: BlockIndex, params: Params, confirmations: int) -> dict:
    out = header_fields(idx, params)
    out["txs"] = [tx.txid.hex() for tx in block.txs]
    out["ops_root"] = block.header.ops_root.hex()
    if block.header.is_pos:
        seal = block.header.seal
        out.update(engine="pos", slot=seal.slot, proposer_index=seal.proposer_index,
                   randao_reveal=seal.randao_reveal.hex(), proposer_signature=seal.signature.hex())
    else:
        out["engine"] = "pow"
    out["attestations"] = [
        {"slot": a.data.slot, "validator": a.validator_index, "head": a.data.head.hex(),
         "source_epoch": a.data.source.epoch, "target_epoch": a.data.target.epoch,
         "target_root": a.data.target.root.hex()}
        for a in block.ops.attestations]
    out["evidence"] = (
        [{"kind": "double-proposal", "validator": Header.decode(e.header_1.header).seal.proposer_index}
         for e in block.ops.proposer_slashings]
        + [{"kind": "attester", "validator": e.attestation_1.validator_index}
           for e in block.ops.attester_slashings])
    fees = sum(tx.fee for tx in block.txs)
    reward = params.block_reward(block.height) if block.height > 0 else 0
    out.update(size=block.size, confirmations=confirmations, reward=reward, fees=fees,
               reward_coins=coins(reward), fees_coins=coins(fees))
    return out


def account_view(address: bytes, acct: Account, params: Params, label: str | None, dev: bool) -> dict:
    return {
        "address": encode_address(params.hrp, address),
        "balance": acct.balance,
        "balance_coins": coins(acct.balance),
        "nonce": acct.nonce,
        "label": label,
        "dev": dev,
    }


def difficulty(bits: int, params: Params) -> float:
    """How many times harder than the easiest allowed target (1.0 at the pow limit), as Bitcoin reports it."""
    if not bits:
        return 0.0  # a PoS block: no proof of work
    limit = pow_rules.bits_to_target(params.pow_limit_bits)
    return limit / max(1, pow_rules.bits_to_target(bits))
