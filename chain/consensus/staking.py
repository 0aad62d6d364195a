"""Staking: stake and unstake transactions, and the genesis validators of the PoS networks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chain import crypto
from chain.codec import U64_MAX, Reader, Writer
from chain.consensus import pos
from chain.consensus.beacon import Checkpoint, ConsensusState, Validator
from chain.consensus.schedule import uses_validators
from chain.errors import DecodeError, InvalidTx
from chain.notes import Exiting, Staked
from chain.params import Params, format_coins
from chain.state import TAG_CONSENSUS, Account, StateView, validator_key

if TYPE_CHECKING:  # chain.tx imports the kinds table, which imports this module
    from chain.tx import Tx

GENESIS_MIX = crypto.sha256(b"chaintop genesis randao mix")


@dataclass(frozen=True, slots=True)
class Stake:
    """Bond `amount` to the validator key `validator_pubkey`; `proof` is that key's signature agreeing to
    it."""

    validator_pubkey: bytes
    amount: int
    proof: bytes

    def encode(self) -> bytes:
        return Writer().fixed(self.validator_pubkey, 32).u64(self.amount).fixed(self.proof, 64).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Stake:
        r = Reader(data)
        out = cls(r.fixed(32), r.u64(), r.fixed(64))
        r.finish()
        return out


@dataclass(frozen=True, slots=True)
class Unstake:
    validator_index: int

    def encode(self) -> bytes:
        return Writer().u32(self.validator_index).getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Unstake:
        r = Reader(data)
        out = cls(r.u32())
        r.finish()
        return out


def dev_validator_key(n: int) -> crypto.KeyPair:
    """Validator keys the dev node holds (public seed, like the dev accounts): genesis validators use the
    first."""
    return crypto.KeyPair.from_seed(crypto.sha256(b"chaintop dev validator key " + n.to_bytes(4, "big")))


def get_stake(tx: Tx) -> Stake:
    try:
        return Stake.decode(tx.payload)
    except DecodeError as e:
        raise InvalidTx("bad-payload", f"stake payload: {e.message}") from None


def get_unstake(tx: Tx) -> Unstake:
    try:
        return Unstake.decode(tx.payload)
    except DecodeError as e:
        raise InvalidTx("bad-payload", f"unstake payload: {e.message}") from None


def get_stake_amount(tx: Tx) -> int:
    """The bonded amount, read without decoding (a malformed payload counts as 0; check_stake rejects it)."""
    return int.from_bytes(tx.payload[32:40], "big") if len(tx.payload) >= 40 else 0


def check_stake(tx: Tx) -> None:
    stake = get_stake(tx)
    if stake.amount == 0:
        raise InvalidTx("zero-amount", "a stake must bond at least one base unit")
    if stake.amount + tx.fee > U64_MAX:
        raise InvalidTx("amount-overflow", "amount plus fee exceeds 2^64 - 1")
    consent = pos.stake_message(tx.chain_id, tx.sender_address)
    if not crypto.verify(stake.validator_pubkey, stake.proof, consent):
        raise InvalidTx("bad-stake-proof",
                        "the validator key did not sign its consent to this account's stake")


def check_unstake(tx: Tx) -> None:
    get_unstake(tx)


def apply_stake(view: StateView, tx: Tx, acct: Account, params: Params) -> None:
    stake = get_stake(tx)
    cost = stake.amount + tx.fee
    if cost > acct.balance:
        raise InvalidTx("insufficient-balance", f"needs {format_coins(cost)} coins (stake and fee), the "
                                                f"account holds {format_coins(acct.balance)} coins")
    cs = pos.get_consensus(view)
    current = pos.get_current_epoch(cs, params)
    existing = next((i for i in range(cs.validator_count)
                     if view.get(validator_key(i)).pubkey == stake.validator_pubkey), None)
    if existing is None:
        if stake.amount < params.min_stake:
            raise InvalidTx("stake-too-small", "a new validator needs at least "
                                               f"{format_coins(params.min_stake)} coins, got "
                                               f"{format_coins(stake.amount)}")
        index = cs.validator_count
        inc = params.effective_balance_increment
        effective = min(stake.amount - stake.amount % inc, params.max_effective_balance)
        view.put(validator_key(index), Validator(
            stake.validator_pubkey, tx.sender_address, effective, stake.amount,
            activation_eligibility_epoch=current, deposited=stake.amount))
        cs = pos.get_consensus_mut(view)
        cs.validator_count += 1
        cs.previous_participation.append(0)
        cs.current_participation.append(0)
        view.notes.append(Staked(index, stake.amount))
    else:
        v = pos.get_validator(view, existing)
        if v.withdrawal_address != tx.sender_address:
            raise InvalidTx("validator-owned-by-another",
                            f"validator {existing} was staked by another account")
        if v.exit_epoch != 2**64 - 1:
            raise InvalidTx("validator-exiting", f"validator {existing} is exiting; it takes no more stake")
        m = pos.get_validator_mut(view, existing)
        m.balance += stake.amount
        m.deposited += stake.amount
    view.set_account(tx.sender_address, Account(acct.balance - cost, acct.nonce + 1))


def apply_unstake(view: StateView, tx: Tx, acct: Account, params: Params) -> None:
    index = get_unstake(tx).validator_index
    if tx.fee > acct.balance:
        raise InvalidTx("insufficient-balance",
                        f"the fee needs {format_coins(tx.fee)} coins, the account holds "
                        f"{format_coins(acct.balance)} coins")
    cs = pos.get_consensus(view)
    if index >= cs.validator_count:
        raise InvalidTx("unknown-validator", f"there is no validator {index}")
    v = pos.get_validator(view, index)
    if v.withdrawal_address != tx.sender_address:
        raise InvalidTx("not-validator-owner",
                        f"validator {index} was staked by another account; only it may unstake")
    current = pos.get_current_epoch(cs, params)
    if not v.is_active(current):
        raise InvalidTx("validator-not-active",
                        f"validator {index} is not active (it is {v.status(current)})")
    if v.exit_epoch != 2**64 - 1:
        raise InvalidTx("already-exiting", f"validator {index} is already exiting at epoch {v.exit_epoch}")
    pos.initiate_validator_exit(view, index, params)
    view.set_account(tx.sender_address, Account(acct.balance - tx.fee, acct.nonce + 1))
    view.notes.append(Exiting(index, pos.get_validator(view, index).exit_epoch))


def genesis_records(params: Params) -> dict[bytes, object]:
    """Genesis validators (dev validator keys, withdrawing to the dev accounts) and the consensus state."""
    if not uses_validators(params):
        return {}
    out: dict[bytes, object] = {}
    for i in range(params.genesis_validators):
        owner = crypto.dev_keypair(i % max(1, params.dev_accounts)).address
        out[validator_key(i)] = Validator(dev_validator_key(i).pubkey, owner, params.max_effective_balance,
                                          params.max_effective_balance, False, 0, 0,
                                          deposited=params.max_effective_balance)
    n = params.genesis_validators
    # the genesis root is filled in when the first block is processed
    genesis_checkpoint = Checkpoint(0, bytes(32))
    out[TAG_CONSENSUS] = ConsensusState(
        slot=0, randao_mixes=[GENESIS_MIX] * pos.EPOCHS_HISTORY,
        block_roots=[bytes(32)] * (pos.ROOTS_HISTORY_EPOCHS * params.slots_per_epoch), justification_bits=0,
        previous_justified=genesis_checkpoint, current_justified=genesis_checkpoint,
        finalized=genesis_checkpoint, validator_count=n, previous_participation=bytearray(n),
        current_participation=bytearray(n))
    return out
