"""Network presets (consensus parameters) and the genesis state they define."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from decimal import Context, Decimal, InvalidOperation

from chain.errors import UsageError

COIN = 100_000_000  # base units per coin; amounts are integers in base units everywhere inside
_EXACT = Context(prec=200)  # wide enough that no user-typed amount is ever rounded while we check it

# Bitcoin regtest's limit: 0x7fffff * 256**29, about 2**255 — a block needs ~2 hashes on average.
REGTEST_POW_LIMIT_BITS = 0x207FFFFF


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

    @property
    def target_timespan(self) -> int:
        return self.target_spacing * self.retarget_interval

    def block_reward(self, height: int) -> int:
        halvings = height // self.halving_interval
        return 0 if halvings >= 64 else self.initial_reward >> halvings

    def to_dict(self) -> dict:
        return asdict(self)

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

PRESETS: dict[str, Params] = {p.network: p for p in (DEVNET, REGTEST)}


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
