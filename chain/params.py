"""Network presets (consensus parameters) and the genesis state they define."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from decimal import Context, Decimal, InvalidOperation

from chain.errors import UsageError

COIN = 100_000_000  # base units per coin; amounts are integers in base units everywhere inside
_EXACT = Context(prec=200)  # wide enough that no user-typed amount is ever rounded while we check it

# Bitcoin regtest's limit: 0x7fffff * 256**29, about 2**255 — a block needs ~2 hashes on average.
REGTEST_POW_LIMIT_BITS = 0x207FFFFF

# Each node's own choice, not a rule of the chain: nodes that differ here share a chain and its genesis.
RELAY_POLICY_FIELDS = frozenset({"min_fee", "min_fee_rate", "mempool_max_bytes", "mempool_expiry"})


@dataclass(frozen=True, slots=True)
class Params:
    """Consensus parameters of one network. Every node on a network must agree on all of them."""

    network: str
    chain_id: int
    hrp: str  # bech32m prefix of addresses on this network
    consensus: str  # "pow" until the PoS modes land
    genesis_time: int  # unix seconds, fixed so every node derives the same genesis
    target_spacing: int  # seconds between blocks the retarget aims for
    retarget_interval: int  # blocks per difficulty window
    pow_limit_bits: int  # easiest target allowed (compact form)
    genesis_bits: int
    initial_reward: int  # base units
    halving_interval: int  # blocks between reward halvings
    mtp_window: int  # median-time-past of this many blocks
    max_future_time: int  # seconds a timestamp may run ahead of the node's clock
    max_block_bytes: int
    max_block_txs: int
    dev_accounts: int  # prefunded accounts from the public dev seed
    dev_balance: int  # base units each
    min_fee: int  # base units; a relay policy, not consensus
    min_fee_rate: float = 5.0  # base units per byte; relay policy
    mempool_max_bytes: int = 5_000_000  # relay policy: beyond this the lowest fee rates are evicted
    mempool_expiry: int = 3 * 60 * 60  # relay policy: seconds a transaction may wait
    pow_no_retarget: bool = False  # regtest: difficulty stays at genesis_bits (Bitcoin's fPowNoRetargeting)
    # -- proof of stake (Ethereum phase0/Altair's names; devnet values, Ethereum's in the comments) ---
    slots_per_epoch: int = 8  # Ethereum 32; in hybrid mode an epoch is this many PoW blocks
    slot_time: float = 2.0  # seconds; Ethereum 12
    genesis_validators: int = 0
    merge_height: int = 0  # merge mode: the first PoS block's height
    min_stake: int = 32 * COIN  # a new validator's least deposit (Ethereum: 32 ETH)
    max_effective_balance: int = 32 * COIN
    effective_balance_increment: int = COIN
    ejection_balance: int = 16 * COIN
    churn_limit_min: int = 2  # validators activated (or exited) per epoch at least; Ethereum 4
    churn_limit_quotient: int = 16  # Ethereum 65536
    activation_delay: int = 2  # epochs from the queue to active (Ethereum 1 + MAX_SEED_LOOKAHEAD = 5)
    withdrawal_delay: int = 4  # epochs from exit to withdrawable: the lock-up (Ethereum 256)
    slashed_withdrawal_delay: int = 8  # epochs a slashed validator waits (Ethereum 8192)
    base_reward_factor: int = 2048  # Ethereum 64: rewards are visible within a few epochs here
    # lose 1/8 of the effective balance at once (Ethereum 1/32 to 1/128)
    min_slashing_penalty_quotient: int = 8
    whistleblower_reward_quotient: int = 64  # Ethereum 512
    inactivity_penalty_quotient: int = 64  # the leak: eb * delay / this per epoch (Ethereum 2**26)
    min_epochs_to_inactivity_penalty: int = 4  # Ethereum 4
    shuffle_rounds: int = 10  # Ethereum mainnet 90, minimal preset 10

    @property
    def target_timespan(self) -> int:
        return self.target_spacing * self.retarget_interval

    def block_reward(self, height: int) -> int:
        halvings = height // self.halving_interval
        return 0 if halvings >= 64 else self.initial_reward >> halvings

    def to_dict(self) -> dict:
        return asdict(self)

    def consensus_dict(self) -> dict:
        """The parameters that define the chain (every one but the relay policy): what genesis commits to."""
        return {k: v for k, v in asdict(self).items() if k not in RELAY_POLICY_FIELDS}

    @classmethod
    def from_dict(cls, data: dict) -> Params:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


DEVNET = Params(
    network="devnet",
    chain_id=0xC4A1,
    hrp="ctdev",
    consensus="pow",
    genesis_time=1_767_225_600,  # 2026-01-01T00:00:00Z
    target_spacing=10,
    retarget_interval=20,
    pow_limit_bits=REGTEST_POW_LIMIT_BITS,
    genesis_bits=REGTEST_POW_LIMIT_BITS,
    initial_reward=50 * COIN,
    halving_interval=150,  # as on regtest
    mtp_window=11,
    max_future_time=2 * 60 * 60,  # Bitcoin's MAX_FUTURE_BLOCK_TIME
    max_block_bytes=1_000_000,
    max_block_txs=5_000,
    dev_accounts=10,
    dev_balance=1_000_000 * COIN,
    min_fee=1_000,
)

# Like bitcoind -regtest: the easiest target forever, so scripts and tests mine instantly.
REGTEST = replace(DEVNET, network="regtest", chain_id=0xC4A2, hrp="ctreg", pow_no_retarget=True)
# Bitcoin-style proof of work alone: probabilistic finality, confirmations.
POW_DEVNET = replace(DEVNET, network="pow-devnet", chain_id=0xC4A3, hrp="ctpow")
# Proof of stake from genesis: a proposer per slot, committees, FFG. genesis_time 0 = "when init runs".
POS_DEVNET = replace(DEVNET, network="pos-devnet", chain_id=0xC4A4, hrp="ctpos", consensus="pos",
                     genesis_time=0, dev_accounts=16, genesis_validators=16, initial_reward=0)
# PoW blocks, FFG committees voting on epoch checkpoints (EIP-1011): the default devnet.
HYBRID_DEVNET = replace(DEVNET, network="hybrid-devnet", chain_id=0xC4A5, hrp="cthyb", consensus="hybrid",
                        dev_accounts=16, genesis_validators=16)
# Hybrid until merge_height, then proof of stake (Ethereum's Merge).
MERGE_DEVNET = replace(HYBRID_DEVNET, network="merge-devnet", chain_id=0xC4A6, hrp="ctmrg", consensus="merge",
                       merge_height=24)
# `devnet`, what `make run` opens, is the hybrid: mining, committees and finality at once.
DEVNET = replace(HYBRID_DEVNET, network="devnet", chain_id=0xC4A1, hrp="ctdev")

PRESETS: dict[str, Params] = {
    p.network: p for p in (DEVNET, REGTEST, POW_DEVNET, POS_DEVNET, HYBRID_DEVNET, MERGE_DEVNET)
}


def get_preset(network: str) -> Params:
    try:
        return PRESETS[network]
    except KeyError:
        names = ", ".join(sorted(PRESETS))
        raise UsageError("unknown-network", f"unknown network {network!r}; choose one of: {names}") from None


def with_overrides(params: Params, **changes) -> Params:
    return replace(params, **changes)


def parse_coins(text: str | int | Decimal, what: str = "amount") -> int:
    """'1.5' -> 150_000_000 base units, exactly; more than 8 decimals or a sign is an error."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise UsageError(f"bad-{what}", f"{what} {text!r} is not a number of coins") from None
    if not value.is_finite():
        raise UsageError(f"bad-{what}", f"{what} {text!r} is not a number of coins")
    if value < 0:
        raise UsageError(f"bad-{what}", f"{what} {text} is negative")
    if value.as_tuple().exponent < -8 and value != value.quantize(Decimal("1e-8"), context=_EXACT):
        raise UsageError(f"bad-{what}", f"{what} {text} has more than 8 decimal places")
    units = value.scaleb(8, context=_EXACT)
    if units != units.to_integral_value():
        raise UsageError(f"bad-{what}", f"{what} {text} has more than 8 decimal places")
    units = int(units)
    if units > 0xFFFF_FFFF_FFFF_FFFF:
        raise UsageError(f"bad-{what}", f"{what} {text} exceeds the largest amount (2^64 - 1 base units)")
    return units


def format_coins(units: int) -> str:
    """150_000_000 -> '1.5'; exact, no float."""
    whole, frac = divmod(units, COIN)
    return f"{whole}.{frac:08d}".rstrip("0").rstrip(".") if frac else str(whole)


def format_duration(seconds: float) -> str:
    """28935467 -> '334 days'; 3 -> '3 s'; 300 -> '5 min': the largest unit that keeps a whole number."""
    s = max(0, int(seconds))
    for unit, size, least in (("days", 86_400, 2 * 86_400), ("h", 3_600, 3_600), ("min", 60, 60)):
        if s >= least:
            return f"{s // size} {unit}"
    return f"{s} s"
