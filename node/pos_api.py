"""The node's proof-of-stake views and actions: validators, committees, finality, duties, stake, faults."""

from __future__ import annotations

from chain import crypto
from chain.consensus import pos
from chain.consensus.beacon import FLAG_TARGET
from chain.consensus.epoch import get_finality_delay, is_in_inactivity_leak
from chain.consensus.process import block_slot
from chain.consensus.schedule import compute_epoch, compute_start_slot, is_pos_height, uses_validators
from chain.errors import ChaintopError, NotFound, UsageError
from chain.tx import make_stake, make_unstake
from node.views import coins


def require_pos(node) -> None:
    if not uses_validators(node.params):
        raise NotFound("not-pos", f"{node.params.network} runs proof of work alone: it has no validators "
                                  "(try --network devnet, pos-devnet, hybrid-devnet or merge-devnet)")


def current_slot(node) -> int:
    """Wall-clock slot under PoS; the next block's height under PoW (an epoch is slots_per_epoch blocks)."""
    chain = node.chain
    if is_pos_height(node.params, chain.head.height + 1):
        return max(chain.current_slot(), block_slot(chain.head.header))
    return chain.head.height


def head_view(node):
    chain = node.chain
    return chain.head_view_at_slot(max(current_slot(node), block_slot(chain.head.header)))


def validators(node) -> list[dict]:
    require_pos(node)
    view = head_view(node)
    cs = pos.get_consensus(view)
    epoch = pos.get_current_epoch(cs, node.params)
    vc = node.validator
    local = vc.local_indices(view)
    hrp = node.params.hrp
    out = []
    for i in range(cs.validator_count):
        v = pos.get_validator(view, i)
        out.append({
            "index": i, "pubkey": v.pubkey.hex(), "address": crypto.encode_address(hrp, v.withdrawal_address),
            "status": v.status(epoch), "effective_balance": v.effective_balance, "balance": v.balance,
            "balance_coins": coins(v.balance), "slashed": v.slashed,
            "activation_epoch": _epoch(v.activation_epoch), "exit_epoch": _epoch(v.exit_epoch),
            "withdrawable_epoch": _epoch(v.withdrawable_epoch),
            "rewards": v.balance + v.withdrawn - v.deposited, "local": i in local, "offline": i in vc.offline,
        })
    return out


def _epoch(e: int) -> int | None:
    return None if e == 2**64 - 1 else e


def committees(node, epoch: int | None = None) -> dict:
    require_pos(node)
    chain, params = node.chain, node.params
    spe = params.slots_per_epoch
    now_epoch = compute_epoch(current_slot(node), params)
    epoch = now_epoch if epoch is None else epoch
    if epoch < 0:
        raise UsageError("bad-epoch", f"an epoch is 0 or more; the current epoch is {now_epoch}")
    if epoch > now_epoch + 1:
        raise UsageError("bad-epoch", f"committees are known up to one epoch ahead (epoch {now_epoch + 1})")
    first = compute_start_slot(epoch, params)
    head_slot = block_slot(chain.head.header)
    if first + spe - 1 < head_slot - pos.ROOTS_HISTORY_EPOCHS * spe:
        raise UsageError("bad-epoch", f"epoch {epoch} is too far back: committees are computed from the "
                                      "head state")
    view = chain.head_view_at_slot(max(first, head_slot))
    cs = pos.get_consensus(view)
    per_slot = pos.get_epoch_committees(view, cs, epoch, params)
    pos_blocks = is_pos_height(params, chain.head.height + 1)
    slots = []
    for s in range(first, first + spe):
        proposer = None
        if pos_blocks:
            try:
                proposer = pos.get_beacon_proposer(view, cs, s, params)
            except ChaintopError:
                proposer = None
        slots.append({"slot": s, "proposer": proposer, "committee": per_slot[s - first]})
    return {"epoch": epoch, "slots": slots}


def finality(node) -> dict:
    require_pos(node)
    params = node.params
    view = head_view(node)
    cs = pos.get_consensus(view)
    vals = pos.get_validators(view, cs)
    epoch = pos.get_current_epoch(cs, params)
    total = pos.get_total_active_balance(vals, epoch, params)
    prev_total = pos.get_total_active_balance(vals, max(epoch - 1, 0), params)
    # The rules divide by at least one increment (Ethereum's max(EFFECTIVE_BALANCE_INCREMENT, ...)); what a
    # user reads is the stake that is really active, 0 when no validator is.
    active = [v for v in vals if v.is_active(epoch)]

    def voted(participation, e) -> int:
        return sum(v.effective_balance for i, v in enumerate(vals)
                   if v.is_active(e) and not v.slashed and participation[i] & FLAG_TARGET)

    genesis = node.chain.get_hash_at(0)
    return {
        "justified_epoch": cs.current_justified.epoch,
        "justified_root": (cs.current_justified.root if any(cs.current_justified.root) else genesis).hex(),
        "finalized_epoch": cs.finalized.epoch,
        "finalized_root": (cs.finalized.root if any(cs.finalized.root) else genesis).hex(),
        "participation": round(voted(cs.previous_participation, max(epoch - 1, 0)) / prev_total, 4),
        "target_votes": round(voted(cs.current_participation, epoch) / total, 4),
        "current_epoch": epoch,
        "current_slot": cs.slot,
        "total_active_stake": sum(v.effective_balance for v in active),
        "active_validators": len(active),
        "finality_delay": get_finality_delay(cs, params),
        "leaking": is_in_inactivity_leak(cs, params),
        "justification_bits": f"{cs.justification_bits:04b}",
    }


def duties(node) -> list[dict]:
    require_pos(node)
    return [{"index": d.index, "kind": d.kind, "slot": d.slot, "epoch": d.epoch}
            for d in node.validator.duties()]


def stake(node, sender: str, amount: int, fee: int | None = None, validator_key: str | None = None) -> dict:
    """Bond `amount` from a dev account to a validator key; by default a fresh dev validator key this node
    holds, so the new validator's duties run here."""
    require_pos(node)
    key = node.resolve_key(sender)
    if validator_key:
        try:
            vkey = crypto.KeyPair.from_seed(bytes.fromhex(validator_key))
        except ValueError:
            raise UsageError("bad-validator-key", "--validator-key is a 32-byte hex seed") from None
    else:
        vkey = node.validator.next_free_key()
    nonce = node.mempool.get_next_nonce(key.address)
    if fee is None:  # the relay minimum for this transaction's size
        fee = node.mempool.min_fee_for(make_stake(node.params, nonce, 0, key, vkey, amount))
    tx = make_stake(node.params, nonce, fee, key, vkey, amount).signed(key)
    out = node.submit_tx(tx)
    out["validator_pubkey"] = vkey.pubkey.hex()
    return out


def unstake(node, sender: str, index: int, fee: int | None = None) -> dict:
    require_pos(node)
    key = node.resolve_key(sender)
    nonce = node.mempool.get_next_nonce(key.address)
    if fee is None:
        fee = node.mempool.min_fee_for(make_unstake(node.params, nonce, 0, key.pubkey, index))
    tx = make_unstake(node.params, nonce, fee, key.pubkey, index).signed(key)
    return node.submit_tx(tx)


def fault(node, index: int, mode: str) -> dict:
    require_pos(node)
    return node.validator.set_fault(index, mode)


__all__ = ["validators", "committees", "finality", "duties", "stake", "unstake", "fault", "coins"]
