"""Transactions: the signed wire object, constructors for each kind, and the stateless checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from chain import crypto
from chain.codec import U64_MAX, Reader, Writer
from chain.consensus import pos
from chain.consensus.staking import Stake, Unstake
from chain.errors import InvalidTx
from chain.kinds import KIND_NAMES, KINDS, STAKE, TRANSFER, UNSTAKE
from chain.params import Params
from chain.transfer import TRANSFER_PAYLOAD_SIZE, Transfer, get_transfer

__all__ = [
    "KIND_NAMES", "MAX_PAYLOAD", "STAKE", "TRANSFER", "TRANSFER_PAYLOAD_SIZE", "UNSTAKE", "Transfer", "Tx",
    "check_tx", "get_amount", "get_transfer", "make_stake", "make_transfer", "make_tx", "make_unstake",
]

MAX_PAYLOAD = 256


@dataclass(frozen=True, slots=True)
class Tx:
    """Field order is wire order. txid = SHA-256 of the encoding without the signature."""

    chain_id: int
    kind: int
    nonce: int
    fee: int
    sender: bytes  # Ed25519 public key, 32 bytes
    payload: bytes
    signature: bytes = bytes(crypto.SIGNATURE_SIZE)
    txid: bytes = field(init=False, repr=False, compare=False)
    _unsigned: bytes = field(init=False, repr=False, compare=False)
    _sender_address: bytes | None = field(init=False, repr=False, compare=False)
    _transfer: Transfer | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name, value, top in (("chain_id", self.chain_id, 0xFFFF_FFFF), ("nonce", self.nonce, U64_MAX)):
            if not 0 <= value <= top:
                raise InvalidTx(f"bad-{name.replace('_', '-')}", f"{name} {value} out of range")
        if not 0 <= self.fee <= U64_MAX:
            raise InvalidTx("bad-fee", f"fee {self.fee} is outside [0, 2^64)")
        if not 0 <= self.kind <= 0xFF:
            raise InvalidTx("unknown-kind", f"kind {self.kind}")
        if len(self.sender) != crypto.PUBKEY_SIZE or len(self.signature) != crypto.SIGNATURE_SIZE:
            raise InvalidTx("bad-encoding", "sender or signature has the wrong size")
        if len(self.payload) > MAX_PAYLOAD:
            raise InvalidTx("bad-payload", f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        unsigned = (
            Writer()
            .u32(self.chain_id)
            .u8(self.kind)
            .u64(self.nonce)
            .u64(self.fee)
            .fixed(self.sender, crypto.PUBKEY_SIZE)
            .var(self.payload, MAX_PAYLOAD)
            .getvalue()
        )
        object.__setattr__(self, "_unsigned", unsigned)
        object.__setattr__(self, "txid", crypto.sha256(unsigned))
        object.__setattr__(self, "_sender_address", None)
        object.__setattr__(self, "_transfer", None)

    # -- wire ------------------------------------------------------------------------------
    def encode(self) -> bytes:
        return self._unsigned + self.signature

    def signing_bytes(self) -> bytes:
        return self._unsigned

    @property
    def size(self) -> int:
        return len(self._unsigned) + crypto.SIGNATURE_SIZE

    @classmethod
    def decode(cls, data: bytes) -> Tx:
        r = Reader(data)
        tx = cls.read(r)
        r.finish()
        return tx

    @classmethod
    def read(cls, r: Reader) -> Tx:
        start = r.pos
        chain_id = r.u32()
        kind = r.u8()
        nonce = r.u64()
        fee = r.u64()
        sender = r.fixed(crypto.PUBKEY_SIZE)
        payload = r.var(MAX_PAYLOAD)
        unsigned = r.slice_from(start)
        signature = r.fixed(crypto.SIGNATURE_SIZE)
        # Decoded fields are in range by construction; reuse the wire bytes instead of re-encoding.
        tx = object.__new__(cls)
        values = (chain_id, kind, nonce, fee, sender, payload, signature)
        for name, value in zip(_TX_FIELDS, values, strict=True):
            object.__setattr__(tx, name, value)
        object.__setattr__(tx, "_unsigned", unsigned)
        object.__setattr__(tx, "txid", crypto.sha256(unsigned))
        object.__setattr__(tx, "_sender_address", None)
        object.__setattr__(tx, "_transfer", None)
        return tx

    # -- meaning ---------------------------------------------------------------------------
    @property
    def sender_address(self) -> bytes:
        addr = self._sender_address
        if addr is None:  # computed once: pools and blocks ask for it many times
            addr = crypto.compute_address(self.sender)
            object.__setattr__(self, "_sender_address", addr)
        return addr

    @property
    def fee_rate(self) -> float:
        """Base units per byte: what a miner earns for the space the transaction takes."""
        return self.fee / self.size

    def signed(self, key: crypto.KeyPair) -> Tx:
        if key.pubkey != self.sender:
            raise InvalidTx("wrong-key", "the signing key is not the sender's")
        signature = key.sign(self.txid)
        return Tx(self.chain_id, self.kind, self.nonce, self.fee, self.sender, self.payload, signature)

    def has_valid_signature(self) -> bool:
        return crypto.verify(self.sender, self.signature, self.txid)


_TX_FIELDS = ("chain_id", "kind", "nonce", "fee", "sender", "payload", "signature")


def make_tx(chain_id: int, kind: int, nonce: int, fee: int, sender: bytes, payload: bytes) -> Tx:
    return Tx(chain_id, kind, nonce, fee, sender, payload)


def make_transfer(chain_id: int, nonce: int, fee: int, sender: bytes, to: bytes, amount: int) -> Tx:
    if not 0 <= amount <= U64_MAX:
        raise InvalidTx("bad-amount", f"amount {amount} is outside [0, 2^64)")
    return Tx(chain_id, TRANSFER, nonce, fee, sender, Transfer(to, amount).encode())


def make_stake(params: Params, nonce: int, fee: int, sender: crypto.KeyPair | bytes,
               validator: crypto.KeyPair, amount: int) -> Tx:
    """An unsigned stake transaction; the validator key signs its consent here."""
    pub = sender.pubkey if isinstance(sender, crypto.KeyPair) else sender
    proof = validator.sign(pos.stake_message(params.chain_id, crypto.compute_address(pub)))
    return make_tx(params.chain_id, STAKE, nonce, fee, pub, Stake(validator.pubkey, amount, proof).encode())


def make_unstake(params: Params, nonce: int, fee: int, sender_pubkey: bytes, index: int) -> Tx:
    return make_tx(params.chain_id, UNSTAKE, nonce, fee, sender_pubkey, Unstake(index).encode())


def get_amount(tx: Tx) -> int:
    """What the transaction takes from the sender's balance besides the fee (a transfer's or a stake's
    amount)."""
    kind = KINDS.get(tx.kind)
    return kind.amount(tx) if kind is not None else 0


def check_tx(tx: Tx, chain_id: int, verify_signature: bool = True, signature_ok: bool | None = None) -> None:
    """Stateless rules, in order: chain, kind, payload, amounts, signature (every kind in chain.kinds).
    signature_ok: the signature's check done already (a batch verified on every core), None: check it here."""
    if tx.chain_id != chain_id:
        raise InvalidTx("wrong-chain-id", f"transaction is for chain {tx.chain_id:#x}, this is {chain_id:#x}")
    kind = KINDS.get(tx.kind)
    if kind is None:
        raise InvalidTx("unknown-kind", f"kind {tx.kind} is not enabled on this network")
    kind.check(tx)
    if verify_signature and not (tx.has_valid_signature() if signature_ok is None else signature_ok):
        raise InvalidTx("bad-signature", "the signature does not verify against the sender's key")
