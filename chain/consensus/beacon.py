"""Proof-of-stake objects: validators, the consensus state record, checkpoints, attestations, slashing
evidence."""

from __future__ import annotations

from dataclasses import dataclass

from chain import crypto
from chain.codec import Reader, Writer
from chain.errors import DecodeError

FAR_FUTURE_EPOCH = 2**64 - 1
MAX_VALIDATORS = 1 << 20
FLAG_SOURCE, FLAG_TARGET, FLAG_HEAD = 1, 2, 4  # participation flags (modelled on Altair's)


@dataclass(slots=True)
class Validator:
    """A validator record. Mutable: only ever changed on a copy that a StateView owns (get_mut)."""

    pubkey: bytes
    withdrawal_address: bytes  # the account that staked; it alone may unstake, and it receives the balance
    effective_balance: int
    balance: int
    slashed: bool = False
    activation_eligibility_epoch: int = FAR_FUTURE_EPOCH
    activation_epoch: int = FAR_FUTURE_EPOCH
    exit_epoch: int = FAR_FUTURE_EPOCH
    withdrawable_epoch: int = FAR_FUTURE_EPOCH
    deposited: int = 0  # total staked, so rewards = balance + withdrawn - deposited
    withdrawn: int = 0

    def encode(self) -> bytes:
        return (Writer().fixed(self.pubkey, 32).fixed(self.withdrawal_address, 20).u64(self.effective_balance)
                .u64(self.balance).u8(int(self.slashed)).u64(self.activation_eligibility_epoch).u64(self.activation_epoch)
                .u64(self.exit_epoch).u64(self.withdrawable_epoch).u64(self.deposited).u64(self.withdrawn).getvalue())

    @classmethod
    def decode(cls, data: bytes) -> Validator:
        r = Reader(data)
        pubkey, addr, eb, bal = r.fixed(32), r.fixed(20), r.u64(), r.u64()
        slashed = r.u8()
        if slashed > 1:
            raise DecodeError("bad-flag", "slashed flag")
        out = cls(pubkey, addr, eb, bal, bool(slashed), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64())
        r.finish()
        return out

    def copy(self) -> Validator:
        return Validator(self.pubkey, self.withdrawal_address, self.effective_balance, self.balance,
                         self.slashed, self.activation_eligibility_epoch, self.activation_epoch,
                         self.exit_epoch, self.withdrawable_epoch, self.deposited, self.withdrawn)

    # -- phase0 predicates -----------------------------------------------------------------
    def is_active(self, epoch: int) -> bool:
        return self.activation_epoch <= epoch < self.exit_epoch

    def is_slashable(self, epoch: int) -> bool:
        return not self.slashed and self.activation_epoch <= epoch < self.withdrawable_epoch

    def status(self, epoch: int) -> str:
        if self.activation_epoch > epoch:
            return "pending"
        if epoch < self.exit_epoch:
            return "exiting" if self.exit_epoch != FAR_FUTURE_EPOCH else "active"
        if epoch < self.withdrawable_epoch:
            return "exited"
        return "withdrawn" if self.balance == 0 else "withdrawable"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    epoch: int
    root: bytes

    def write(self, w: Writer) -> None:
        w.u64(self.epoch).fixed(self.root, 32)

    @classmethod
    def read(cls, r: Reader) -> Checkpoint:
        return cls(r.u64(), r.fixed(32))


@dataclass(slots=True)
class ConsensusState:
    """The chain-wide PoS record: where the slot clock stands, recent roots and mixes, FFG checkpoints,
    votes."""

    slot: int
    randao_mixes: list[bytes]  # ring over epochs
    block_roots: list[bytes]  # ring over slots: the latest block root at or before each slot
    justification_bits: int  # bit i set: epoch (current - i) is justified (4 bits kept)
    previous_justified: Checkpoint
    current_justified: Checkpoint
    finalized: Checkpoint
    validator_count: int
    previous_participation: bytearray
    current_participation: bytearray
    leak_epochs: int = 0  # consecutive epochs processed in an inactivity leak (for the event and the screen)

    def encode(self) -> bytes:
        w = Writer().u64(self.slot).u32(len(self.randao_mixes))
        for m in self.randao_mixes:
            w.fixed(m, 32)
        w.u32(len(self.block_roots))
        for b in self.block_roots:
            w.fixed(b, 32)
        w.u8(self.justification_bits)
        self.previous_justified.write(w)
        self.current_justified.write(w)
        self.finalized.write(w)
        w.u32(self.validator_count)
        w.var(bytes(self.previous_participation), MAX_VALIDATORS)
        w.var(bytes(self.current_participation), MAX_VALIDATORS)
        w.u32(self.leak_epochs)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> ConsensusState:
        r = Reader(data)
        slot = r.u64()
        n = r.u32()
        if n > 4096:
            raise DecodeError("length-out-of-bounds", "too many randao mixes")
        mixes = [r.fixed(32) for _ in range(n)]
        n = r.u32()
        if n > 65536:
            raise DecodeError("length-out-of-bounds", "too many block roots")
        roots = [r.fixed(32) for _ in range(n)]
        bits = r.u8()
        prev_j, cur_j, fin = Checkpoint.read(r), Checkpoint.read(r), Checkpoint.read(r)
        count = r.u32()
        prev_p = bytearray(r.var(MAX_VALIDATORS))
        cur_p = bytearray(r.var(MAX_VALIDATORS))
        leak = r.u32()
        r.finish()
        return cls(slot, mixes, roots, bits, prev_j, cur_j, fin, count, prev_p, cur_p, leak)

    def copy(self) -> ConsensusState:
        return ConsensusState(self.slot, list(self.randao_mixes), list(self.block_roots),
                              self.justification_bits, self.previous_justified, self.current_justified,
                              self.finalized, self.validator_count, bytearray(self.previous_participation),
                              bytearray(self.current_participation), self.leak_epochs)


@dataclass(frozen=True, slots=True)
class AttestationData:
    slot: int
    head: bytes
    source: Checkpoint
    target: Checkpoint

    def encode(self) -> bytes:
        w = Writer().u64(self.slot).fixed(self.head, 32)
        self.source.write(w)
        self.target.write(w)
        return w.getvalue()

    @classmethod
    def read(cls, r: Reader) -> AttestationData:
        return cls(r.u64(), r.fixed(32), Checkpoint.read(r), Checkpoint.read(r))


@dataclass(frozen=True, slots=True)
class Attestation:
    """One validator's signed vote. (Ethereum aggregates BLS signatures; Ed25519 does not aggregate, so votes
    travel singly.)"""

    data: AttestationData
    validator_index: int
    signature: bytes

    def write(self, w: Writer) -> None:
        w.raw(self.data.encode()).u32(self.validator_index).fixed(self.signature, 64)

    @classmethod
    def read(cls, r: Reader) -> Attestation:
        return cls(AttestationData.read(r), r.u32(), r.fixed(64))

    def encode(self) -> bytes:
        w = Writer()
        self.write(w)
        return w.getvalue()

    @property
    def id(self) -> bytes:
        return crypto.sha256(self.encode())


@dataclass(frozen=True, slots=True)
class SignedHeader:
    """A PoS header with its proposer signature, as evidence of a double proposal."""

    header: bytes  # the encoded header (its seal carries slot, proposer and signature)

    def write(self, w: Writer) -> None:
        w.var(self.header, 4096)

    @classmethod
    def read(cls, r: Reader) -> SignedHeader:
        return cls(r.var(4096))


@dataclass(frozen=True, slots=True)
class ProposerSlashing:
    header_1: SignedHeader
    header_2: SignedHeader

    def write(self, w: Writer) -> None:
        self.header_1.write(w)
        self.header_2.write(w)

    @classmethod
    def read(cls, r: Reader) -> ProposerSlashing:
        return cls(SignedHeader.read(r), SignedHeader.read(r))


@dataclass(frozen=True, slots=True)
class AttesterSlashing:
    attestation_1: Attestation
    attestation_2: Attestation

    def write(self, w: Writer) -> None:
        self.attestation_1.write(w)
        self.attestation_2.write(w)

    @classmethod
    def read(cls, r: Reader) -> AttesterSlashing:
        return cls(Attestation.read(r), Attestation.read(r))


MAX_OPS = 4096


@dataclass(frozen=True, slots=True)
class BlockOps:
    """A block's consensus operations, committed to by the header's ops root."""

    attestations: tuple[Attestation, ...] = ()
    proposer_slashings: tuple[ProposerSlashing, ...] = ()
    attester_slashings: tuple[AttesterSlashing, ...] = ()

    def write(self, w: Writer) -> None:
        for items in (self.attestations, self.proposer_slashings, self.attester_slashings):
            w.u32(len(items))
            for item in items:
                item.write(w)

    def encode(self) -> bytes:
        w = Writer()
        self.write(w)
        return w.getvalue()

    @classmethod
    def read(cls, r: Reader) -> BlockOps:
        out = []
        for kind in (Attestation, ProposerSlashing, AttesterSlashing):
            n = r.u32()
            if n > MAX_OPS or n > r.remaining():
                raise DecodeError("length-out-of-bounds", f"{n} operations cannot fit")
            out.append(tuple(kind.read(r) for _ in range(n)))
        return cls(*out)

    def root(self) -> bytes:
        return crypto.sha256(self.encode())

    def __bool__(self) -> bool:
        return bool(self.attestations or self.proposer_slashings or self.attester_slashings)


EMPTY_OPS = BlockOps()
EMPTY_OPS_ROOT = EMPTY_OPS.root()
