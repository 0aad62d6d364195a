"""The transaction pool: full checks against current state, per-sender nonce lanes, fee-rate order, a byte
bound."""

from __future__ import annotations

import heapq
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from chain.codec import U64_MAX
from chain.errors import InvalidTx
from chain.params import format_coins
from chain.state import Account
from chain.tx import TRANSFER, Tx, check_tx, get_amount

REPLACE_BUMP_PERCENT = 10  # a replacement must pay at least 10% more fee (BIP 125's spirit)
# How far past the end of a sender's ready lane (its first missing nonce) a transaction may wait: a bound on
# the gapped queue, as geth's per-account queue is; a run of consecutive nonces is bounded only by the balance
# and the pool's bytes (a script sending a thousand transfers from one account before mining is normal use).
MAX_NONCE_GAP = 64


_ADDED = struct.Struct(">d")


def encode_pool_record(tx: Tx, added: float) -> bytes:
    """How a pending transaction is persisted: when it arrived, then its wire bytes."""
    return _ADDED.pack(added) + tx.encode()


def decode_pool_record(raw: bytes) -> tuple[Tx, float]:
    from chain.errors import DecodeError

    if len(raw) < _ADDED.size:
        raise DecodeError("truncated", "pool record too short")
    return Tx.decode(raw[_ADDED.size:]), _ADDED.unpack(raw[: _ADDED.size])[0]


@dataclass(frozen=True, slots=True)
class PoolEntry:
    tx: Tx
    added: float
    cost: int  # amount + fee: what the sender's balance must cover, kept so lane checks never re-decode


@dataclass
class AddResult:
    """What admitting a transaction did to the pool, so the caller can tell the user."""

    tx: Tx
    replaced: Tx | None = None
    evicted: list[Tx] = field(default_factory=list)
    ready: bool = True


@dataclass(frozen=True, slots=True)
class PoolPolicy:
    chain_id: int
    min_fee: int  # base units, absolute
    min_fee_rate: float  # base units per byte
    max_bytes: int
    expiry: float  # seconds a transaction may wait before it is dropped
    staking: bool = False  # whether stake and unstake transactions exist on this network


class Mempool:
    """Pending transactions. `get_account` reads committed state; lanes add each sender's pending nonces on
    top.

    A lane is ready up to its first missing nonce; later transactions wait for the gap to fill.
    """

    def __init__(self, policy: PoolPolicy, get_account: Callable[[bytes], Account | None],
                 is_confirmed: Callable[[bytes], bool]) -> None:
        self.policy = policy
        self._get_account = get_account
        self._is_confirmed = is_confirmed
        self.entries: dict[bytes, PoolEntry] = {}
        self.lanes: dict[bytes, dict[int, bytes]] = {}  # sender address -> nonce -> txid
        self.lane_cost: dict[bytes, int] = {}  # sender address -> sum of its pending amounts and fees
        # The state rules of kinds other than transfers (stake, unstake), against the head: set by the node.
        self.check_state: Callable[[Tx], None] | None = None
        self.total_bytes = 0

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, txid: bytes) -> bool:
        return txid in self.entries

    def get(self, txid: bytes) -> Tx | None:
        e = self.entries.get(txid)
        return e.tx if e else None

    def _account_nonce(self, address: bytes) -> int:
        return (self._get_account(address) or Account()).nonce

    def get_next_nonce(self, address: bytes) -> int:
        """The first nonce after the sender's ready lane: what a new transaction should use."""
        nonce = self._account_nonce(address)
        lane = self.lanes.get(address, {})
        while nonce in lane:
            nonce += 1
        return nonce

    def min_fee_for(self, tx: Tx) -> int:
        return max(self.policy.min_fee, int(self.policy.min_fee_rate * tx.size + 0.999999))

    def check(self, tx: Tx) -> Tx | None:
        """Every entry rule; returns the pending tx this one would replace (same sender and nonce), if any."""
        return self._check(tx)[0]

    def _check(self, tx: Tx, signature_ok: bool | None = None) -> tuple[Tx | None, Account]:
        if tx.txid in self.entries:
            raise InvalidTx("txn-already-in-mempool", "this transaction is already pending")
        if self._is_confirmed(tx.txid):
            raise InvalidTx("txn-already-known", "this transaction is already in the chain")
        if tx.kind != TRANSFER and not self.policy.staking:
            raise InvalidTx("unknown-kind", "this network has no validators: only transfers")
        check_tx(tx, self.policy.chain_id, signature_ok=signature_ok)
        if tx.kind != TRANSFER and self.check_state is not None:
            self.check_state(tx)
        needed_fee = self.min_fee_for(tx)
        if tx.fee < needed_fee:
            raise InvalidTx("fee-too-low", f"fee {format_coins(tx.fee)} coins is below the minimum relay fee "
                                           f"of {format_coins(needed_fee)} coins for {tx.size} bytes")
        sender = tx.sender_address
        acct = self._get_account(sender) or Account()
        if tx.nonce < acct.nonce:
            raise InvalidTx("nonce-too-low",
                            f"nonce {tx.nonce} was already used; the account's next nonce is {acct.nonce}")
        lane = self.lanes.get(sender, {})
        if tx.nonce > acct.nonce + MAX_NONCE_GAP:
            first_gap = acct.nonce  # (walked only this far: a nonce within the gap bound needs no walk)
            while first_gap in lane and first_gap + MAX_NONCE_GAP < tx.nonce:
                first_gap += 1
            if tx.nonce > first_gap + MAX_NONCE_GAP:
                raise InvalidTx("nonce-too-high", f"nonce {tx.nonce} is more than {MAX_NONCE_GAP} ahead of "
                                                  f"the sender's next usable nonce {first_gap}")
        replaced = self.get(lane[tx.nonce]) if tx.nonce in lane else None
        if replaced is not None:
            needed = replaced.fee + (replaced.fee * REPLACE_BUMP_PERCENT + 99) // 100
            if tx.fee < needed:
                raise InvalidTx("replacement-fee-too-low",
                                f"replacing needs a fee of at least {format_coins(needed)} coins "
                                f"({REPLACE_BUMP_PERCENT}% above {format_coins(replaced.fee)})")
        # Every pending tx of the lane must stay payable, whatever order they confirm in: the whole lane's
        # cost (without the one being replaced) plus this one must fit the balance.
        freed = self.entries[replaced.txid].cost if replaced is not None else 0
        committed = self.lane_cost.get(sender, 0) - freed
        cost = get_amount(tx) + tx.fee
        if cost > U64_MAX or committed + cost > acct.balance:
            raise InvalidTx("insufficient-balance",
                            f"needs {format_coins(committed + cost)} coins (amount and fee"
                            + (", with the sender's pending transactions" if committed else "")
                            + f"), the account holds {format_coins(acct.balance)} coins")
        return replaced, acct

    def add(self, tx: Tx, now: float = 0.0, signature_ok: bool | None = None) -> AddResult:
        """Admit `tx` or raise InvalidTx (nothing changed). Over the byte bound, lower fee rates leave, but
        only for a newcomer paying strictly more per byte than each one it pushes out (as Bitcoin Core
        requires). signature_ok: the signature was checked already (see check_tx)."""
        replaced, acct = self._check(tx, signature_ok)
        replaced_entry = self.entries.get(replaced.txid) if replaced is not None else None
        if replaced is not None:
            self._remove(replaced.txid)
        self._insert(tx, now)
        evicted: list[PoolEntry] = []
        while self.total_bytes > self.policy.max_bytes:
            victim = self._lowest_tail(exclude=tx.txid)
            if victim is None or tx.fee_rate <= victim.fee_rate:
                self._remove(tx.txid)
                for entry in reversed(evicted):
                    self._insert(entry.tx, entry.added)
                if replaced_entry is not None:
                    self._insert(replaced_entry.tx, replaced_entry.added)
                raise InvalidTx("mempool-full", f"the pool is full ({self.policy.max_bytes} bytes) and this "
                                                f"fee rate ({tx.fee_rate:.2f}/byte) does not beat the lowest "
                                                "one pooled")
            evicted.append(self.entries[victim.txid])
            self._remove(victim.txid)
        lane, nonce = self.lanes[tx.sender_address], acct.nonce
        while nonce in lane and nonce < tx.nonce:
            nonce += 1
        return AddResult(tx, replaced, [e.tx for e in evicted], nonce == tx.nonce)

    def _lowest_tail(self, exclude: bytes) -> Tx | None:
        """The lowest-fee-rate transaction at the end of a lane (evicting it never opens a gap), other than
        `exclude`; a lane that ends in `exclude` offers nothing (its predecessors would leave a gap before
        it)."""
        best = None
        for lane in self.lanes.values():
            txid = lane[max(lane)]
            if txid == exclude:
                continue
            t = self.entries[txid].tx
            if best is None or (t.fee_rate, -t.nonce) < (best.fee_rate, -best.nonce):
                best = t
        return best

    def _insert(self, tx: Tx, now: float) -> None:
        entry = PoolEntry(tx, now, get_amount(tx) + tx.fee)
        sender = tx.sender_address
        self.entries[tx.txid] = entry
        self.lanes.setdefault(sender, {})[tx.nonce] = tx.txid
        self.lane_cost[sender] = self.lane_cost.get(sender, 0) + entry.cost
        self.total_bytes += tx.size

    def _remove(self, txid: bytes) -> Tx | None:
        entry = self.entries.pop(txid, None)
        if entry is None:
            return None
        self.total_bytes -= entry.tx.size
        sender = entry.tx.sender_address
        lane = self.lanes.get(sender)
        if lane is not None and lane.get(entry.tx.nonce) == txid:
            del lane[entry.tx.nonce]
            self.lane_cost[sender] -= entry.cost
            if not lane:
                del self.lanes[sender]
                del self.lane_cost[sender]
        return entry.tx

    def remove(self, txids: Iterable[bytes]) -> list[Tx]:
        return [tx for txid in txids if (tx := self._remove(txid)) is not None]

    def expire(self, now: float) -> list[Tx]:
        """Drop transactions older than the expiry, and every later nonce of their lanes."""
        old = [e.tx for e in self.entries.values() if now - e.added > self.policy.expiry]
        if not old:
            return []
        dropped = self.remove(tx.txid for tx in old)
        return dropped + [tx for tx, _ in self.revalidate()]

    def revalidate(self) -> list[tuple[Tx, InvalidTx]]:
        """After the head moves: re-check every lane from the account's committed nonce; drop what fails."""
        dropped: list[tuple[Tx, InvalidTx]] = []
        old = sorted(self.entries.values(), key=lambda e: (e.tx.sender_address, e.tx.nonce))
        self.entries.clear()
        self.lanes.clear()
        self.lane_cost.clear()
        self.total_bytes = 0
        for e in old:
            try:
                self.check(e.tx)
            except InvalidTx as err:
                dropped.append((e.tx, err))
                continue
            self._insert(e.tx, e.added)
        return dropped

    def ready_lanes(self) -> dict[bytes, list[Tx]]:
        out = {}
        for sender, lane in self.lanes.items():
            nonce = self._account_nonce(sender)
            txs = []
            while nonce in lane:
                txs.append(self.entries[lane[nonce]].tx)
                nonce += 1
            if txs:
                out[sender] = txs
        return out

    def iter_by_fee_rate(self) -> Iterator[Tx]:
        """Ready transactions, highest fee rate first, never a nonce before its predecessor (a heap of lane
        heads)."""
        lanes = self.ready_lanes()
        heads = [(-txs[0].fee_rate, txs[0].txid, sender, 0) for sender, txs in lanes.items()]
        heapq.heapify(heads)
        while heads:
            _, _, sender, i = heapq.heappop(heads)
            txs = lanes[sender]
            yield txs[i]
            if i + 1 < len(txs):
                nxt = txs[i + 1]
                heapq.heappush(heads, (-nxt.fee_rate, nxt.txid, sender, i + 1))

    def sorted_entries(self) -> list[PoolEntry]:
        return sorted(self.entries.values(), key=lambda e: (-e.tx.fee_rate, e.tx.txid))
