"""The transaction pool: full checks against current state, per-sender nonce lanes, fee-rate ordering."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from chain.codec import U64_MAX
from chain.errors import InvalidTx
from chain.state import Account
from chain.tx import Tx, check_tx, get_amount

REPLACE_BUMP_PERCENT = 10  # a replacement must pay at least this much more fee (BIP 125's spirit)


@dataclass(frozen=True, slots=True)
class PoolEntry:
    tx: Tx
    added: float


class Mempool:
    """Pending transactions. `get_account` reads committed state; the pool adds its own lanes on top."""

    def __init__(self, chain_id: int, min_fee: int, get_account, is_confirmed) -> None:
        self.chain_id = chain_id
        self.min_fee = min_fee
        self._get_account = get_account
        self._is_confirmed = is_confirmed
        self.entries: dict[bytes, PoolEntry] = {}
        self.lanes: dict[bytes, dict[int, bytes]] = {}  # sender address -> nonce -> txid

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, txid: bytes) -> bool:
        return txid in self.entries

    def get(self, txid: bytes) -> Tx | None:
        e = self.entries.get(txid)
        return e.tx if e else None

    def get_next_nonce(self, address: bytes) -> int:
        nonce = (self._get_account(address) or Account()).nonce
        lane = self.lanes.get(address, {})
        while nonce in lane:
            nonce += 1
        return nonce

    def check(self, tx: Tx) -> Tx | None:
        """Every rule for entry; returns the tx this one would replace (same sender and nonce), if any."""
        if tx.txid in self.entries:
            raise InvalidTx("txn-already-in-mempool", "this transaction is already pending")
        if self._is_confirmed(tx.txid):
            raise InvalidTx("txn-already-known", "this transaction is already in the chain")
        check_tx(tx, self.chain_id)
        if tx.fee < self.min_fee:
            raise InvalidTx("fee-too-low", f"fee {tx.fee} is below the minimum relay fee of {self.min_fee} base units")
        sender = tx.sender_address
        acct = self._get_account(sender) or Account()
        if tx.nonce < acct.nonce:
            raise InvalidTx("nonce-too-low", f"nonce {tx.nonce} was already used; the account's next nonce is {acct.nonce}")
        lane = self.lanes.get(sender, {})
        replaced = self.get(lane[tx.nonce]) if tx.nonce in lane else None
        if replaced is not None:
            needed = replaced.fee + (replaced.fee * REPLACE_BUMP_PERCENT + 99) // 100
            if tx.fee < needed:
                raise InvalidTx("replacement-fee-too-low", f"replacing needs a fee of at least {needed} (10% above {replaced.fee})")
        else:
            expected = self.get_next_nonce(sender)
            if tx.nonce > expected:
                raise InvalidTx("nonce-too-high", f"nonce {tx.nonce} skips ahead; the next usable nonce is {expected}")
        committed = sum(get_amount(p) + p.fee for n, t in lane.items() if n < tx.nonce for p in [self.get(t)])
        cost = get_amount(tx) + tx.fee
        if cost > U64_MAX or committed + cost > acct.balance:
            raise InvalidTx("insufficient-balance", f"needs {committed + cost} base units including pending, the account holds {acct.balance}")
        return replaced

    def add(self, tx: Tx, now: float = 0.0) -> Tx | None:
        replaced = self.check(tx)
        if replaced is not None:
            self._remove(replaced.txid)
        self._insert(tx, now)
        return replaced

    def _insert(self, tx: Tx, now: float) -> None:
        self.entries[tx.txid] = PoolEntry(tx, now)
        self.lanes.setdefault(tx.sender_address, {})[tx.nonce] = tx.txid

    def _remove(self, txid: bytes) -> Tx | None:
        entry = self.entries.pop(txid, None)
        if entry is None:
            return None
        sender = entry.tx.sender_address
        lane = self.lanes.get(sender)
        if lane is not None and lane.get(entry.tx.nonce) == txid:
            del lane[entry.tx.nonce]
            if not lane:
                del self.lanes[sender]
        return entry.tx

    def remove(self, txids: Iterable[bytes]) -> list[Tx]:
        return [tx for txid in txids if (tx := self._remove(txid)) is not None]

    def revalidate(self) -> list[tuple[Tx, InvalidTx]]:
        """After the head moves: re-check every lane from the account's committed nonce; drop what fails."""
        dropped: list[tuple[Tx, InvalidTx]] = []
        old = sorted((e for e in self.entries.values()), key=lambda e: (e.tx.sender_address, e.tx.nonce))
        self.entries.clear()
        self.lanes.clear()
        for e in old:
            try:
                self.check(e.tx)
            except InvalidTx as err:
                dropped.append((e.tx, err))
                continue
            self._insert(e.tx, e.added)
        return dropped

    def iter_by_fee_rate(self) -> Iterator[Tx]:
        """Highest fee rate first, never a sender's nonce before its predecessor (a heap over lane heads)."""
        heads = []
        positions: dict[bytes, list[Tx]] = {}
        for sender, lane in self.lanes.items():
            txs = [self.entries[lane[n]].tx for n in sorted(lane)]
            positions[sender] = txs
            heapq.heappush(heads, (-txs[0].fee_rate, txs[0].txid, sender, 0))
        while heads:
            _, _, sender, i = heapq.heappop(heads)
            txs = positions[sender]
            yield txs[i]
            if i + 1 < len(txs):
                nxt = txs[i + 1]
                heapq.heappush(heads, (-nxt.fee_rate, nxt.txid, sender, i + 1))

    def sorted_entries(self) -> list[PoolEntry]:
        return sorted(self.entries.values(), key=lambda e: (-e.tx.fee_rate, e.tx.txid))
