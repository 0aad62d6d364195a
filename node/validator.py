"""Local validator duties: propose and attest with the keys this node holds, pool votes and evidence,
detect equivocation, and inject faults (offline, equivocate) on demand."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from chain import crypto
from chain.block import Block
from chain.consensus import pos
from chain.consensus.beacon import (
    Attestation,
    AttestationData,
    AttesterSlashing,
    BlockOps,
    ProposerSlashing,
    SignedHeader,
)
from chain.consensus.process import block_slot
from chain.consensus.schedule import compute_epoch, compute_start_slot, is_pos_height, uses_validators
from chain.consensus.slashing import is_slashable_attestation_data
from chain.consensus.staking import dev_validator_key
from chain.errors import ChaintopError, InvalidBlock, NotFound, UsageError
from chain.template import build_block
from node import events as ev

DEV_VALIDATOR_KEYS = 256  # dev validator keys the node holds (public seed, dev only)
FAULTS = ("offline", "online", "equivocate")


@dataclass
class Duty:
    index: int
    kind: str  # propose | attest
    slot: int
    epoch: int


class ValidatorClient:
    """Runs inside the node; every call happens under the node lock."""

    def __init__(self, node) -> None:
        self.node = node
        self.params = node.params
        self._keys: dict[bytes, crypto.KeyPair] | None = None
        self.pool: dict[bytes, Attestation] = {}  # vote id -> vote, until included or too old
        self.included: set[bytes] = set()
        self.evidence: dict[tuple, ProposerSlashing | AttesterSlashing] = {}  # (kind, validator) -> evidence
        self.offline: set[int] = set()
        self.equivocating: set[int] = set()
        self._votes: dict[tuple[int, int], Attestation] = {}  # (validator, target epoch) -> first vote seen
        self._proposals: dict[tuple[int, int], bytes] = {}  # (slot, proposer) -> header bytes
        self._last_slot = -1
        # validator -> (target epoch, head) of its newest vote
        self.latest_votes: dict[int, tuple[int, bytes]] = {}
        self.lock = threading.RLock()
        # (ks, n): this node runs only validators i with i % n in ks, its share on a network (ks empty:
        # none); None: every validator it holds a key for (a node alone)
        self.share: tuple[frozenset[int], int] | None = None
        self._signed: dict[int, tuple[int, int]] = {}  # validator -> (source, target) epochs of its last vote
        self.gossip_listeners: list = []  # told each vote newly pooled and new evidence (the network gossips)

    # -- keys ------------------------------------------------------------------------------
    @property
    def keys(self) -> dict[bytes, crypto.KeyPair]:
        if self._keys is None:
            self._keys = {k.pubkey: k for k in (dev_validator_key(n) for n in range(DEV_VALIDATOR_KEYS))}
        return self._keys

    def local_indices(self, view=None) -> dict[int, crypto.KeyPair]:
        view = view or self.node.chain.new_view()
        cs = pos.get_consensus(view)
        out = {}
        for i in range(cs.validator_count):
            if self.share is not None and i % self.share[1] not in self.share[0]:
                continue
            key = self.keys.get(pos.get_validator(view, i).pubkey)
            if key is not None:
                out[i] = key
        return out

    def next_free_key(self) -> crypto.KeyPair:
        """A dev validator key no validator uses yet, for a stake from a dev account."""
        view = self.node.chain.new_view()
        cs = pos.get_consensus(view)
        used = {pos.get_validator(view, i).pubkey for i in range(cs.validator_count)}
        used |= {tx_stake_key(t) for t in self.node.mempool.entries.values()}
        for n in range(DEV_VALIDATOR_KEYS):
            k = dev_validator_key(n)
            if k.pubkey not in used:
                return k
        raise UsageError("no-free-key", "every dev validator key is in use")

    # -- faults ----------------------------------------------------------------------------
    def set_fault(self, index: int, mode: str) -> dict:
        if mode not in FAULTS:
            raise UsageError("bad-fault", f"fault {mode!r}; choose one of: {', '.join(FAULTS)}")
        if index not in self.local_indices():
            raise NotFound("not-local-validator", f"validator {index} is not run by this node (it holds no "
                                                  "key for it)")
        if mode == "offline":
            self.offline.add(index)
        elif mode == "online":
            self.offline.discard(index)
            self.equivocating.discard(index)
        else:
            self.equivocating.add(index)
        return {"index": index, "offline": index in self.offline, "equivocate": index in self.equivocating}

    # -- duties ----------------------------------------------------------------------------
    def on_slot(self, slot: int) -> Block | None:
        """PoS: at the start of `slot`, propose if a local validator is due, then cast this slot's votes."""
        chain = self.node.chain
        if slot <= self._last_slot or not is_pos_height(self.params, chain.head.height + 1):
            return None
        self._last_slot = slot
        proposer = chain.get_proposer(slot)
        self.node.events.emit(ev.SlotStarted(slot, compute_epoch(slot, self.params), proposer))
        block = None
        local = self.local_indices()
        self.update_head()
        if proposer in local and proposer not in self.offline:
            block = self.propose(slot, proposer, local[proposer])
        self.attest(slot)
        return block

    def update_head(self) -> None:
        """Proof of stake: move the head where LMD-GHOST points (votes can favour a sibling of our head)."""
        chain = self.node.chain
        if not chain.head.header.is_pos:
            return
        try:
            best = chain.fork_choice_head({i: root for i, (_, root) in self.latest_votes.items()})
        except ChaintopError:
            return
        if best.hash != chain.head.hash:
            try:
                self.node.reorg_to(best)
            except ChaintopError:
                pass  # the branch failed validation when connected; it is marked invalid

    def on_block_connected(self, height: int) -> None:
        """Hybrid (and merge before the merge): the committee of slot = height votes on the new block."""
        if uses_validators(self.params) and not self.node.chain.head.header.is_pos:
            self.attest(height)

    def ops_for_block(self) -> BlockOps:
        slashings_p = [e for e in self.evidence.values() if isinstance(e, ProposerSlashing)]
        slashings_a = [e for e in self.evidence.values() if isinstance(e, AttesterSlashing)]
        votes = sorted((a for a in self.pool.values() if a.id not in self.included),
                       key=lambda a: a.data.slot)
        return BlockOps(tuple(votes), tuple(slashings_p), tuple(slashings_a))

    def propose(self, slot: int, index: int, key: crypto.KeyPair) -> Block | None:
        chain = self.node.chain
        beneficiary = pos.get_validator(chain.new_view(), index).withdrawal_address
        try:
            block, _ = build_block(chain, beneficiary, self.node.mempool.iter_by_fee_rate(),
                                   ops=self.ops_for_block(), pos_slot=slot, proposer_key=key)
            twin = None
            if index in self.equivocating:
                # A second, different, valid block for the same slot (empty, another fee recipient): a double
                # proposal, so a slashing can be shown on demand.
                self.equivocating.discard(index)
                twin, _ = build_block(chain, crypto.sha256(block.hash)[:20], [], ops=BlockOps(),
                                      pos_slot=slot, proposer_key=key)
        except InvalidBlock:
            return None
        result = self.node.accept_block(block)
        if twin is not None:
            try:
                self.node.accept_block(twin)
            except ChaintopError:
                pass
        return block if result.status in ("connected", "reorg") else None

    def attest(self, slot: int) -> list[Attestation]:
        """Every online local validator in the slot's committee votes for the current head."""
        chain = self.node.chain
        try:
            head, source, target = chain.vote_for_slot(slot)
            view = chain.head_view_at_slot(max(slot, block_slot(chain.head.header)))
            committee = pos.get_committee(view, pos.get_consensus(view), slot, self.params)
        except ChaintopError:
            return []
        local = self.local_indices(view)
        out = []
        for i in committee:
            if i not in local or i in self.offline:
                continue
            data = AttestationData(slot, head, source, target)
            if not self._is_safe_to_sign(i, data):
                continue
            out.append(self._sign_vote(i, local[i], data))
            if i in self.equivocating:
                self.equivocating.discard(i)
                parent = chain.head.header.parent
                out.append(self._sign_vote(i, local[i], AttestationData(slot, parent, source, target)))
        return out

    def _is_safe_to_sign(self, index: int, data: AttestationData) -> bool:
        """Slashing protection (Ethereum's minimal rule): a validator signs a vote only for a newer target
        than any it signed, from a source no older. Without it a reorg back to a height already voted on
        (competing miners on a network) signed a second vote for the same target: a double vote, and with
        enough of them two branches could each finalize. Kept in memory (a restart forgets it)."""
        last = self._signed.get(index)
        if last is not None and (data.target.epoch <= last[1] or data.source.epoch < last[0]):
            return False
        self._signed[index] = (data.source.epoch, data.target.epoch)
        return True

    def _sign_vote(self, index: int, key: crypto.KeyPair, data: AttestationData) -> Attestation:
        att = Attestation(data, index, key.sign(pos.attestation_message(self.params.chain_id, data)))
        self.add_attestation(att)
        return att

    # -- pools and equivocation detection --------------------------------------------------
    def add_attestation(self, att: Attestation) -> None:
        if att.id in self.pool or att.id in self.included:
            return
        self.pool[att.id] = att
        self._watch_vote(att)
        self._tell(att)
        d = att.data
        self.node.events.emit(ev.AttestationSeen(d.slot, att.validator_index, d.head.hex(), d.source.epoch,
                                                 d.target.epoch))

    def _watch_vote(self, att: Attestation) -> None:
        latest = self.latest_votes.get(att.validator_index)
        if latest is None or att.data.target.epoch > latest[0]:
            self.latest_votes[att.validator_index] = (att.data.target.epoch, att.data.head)
        key = (att.validator_index, att.data.target.epoch)
        first = self._votes.setdefault(key, att)
        if (first is not att and first.data != att.data
                and is_slashable_attestation_data(first.data, att.data)):
            if ("attester", att.validator_index) not in self.evidence:
                self.evidence[("attester", att.validator_index)] = AttesterSlashing(first, att)
                self._tell(self.evidence[("attester", att.validator_index)])

    def _tell(self, item) -> None:
        for listener in self.gossip_listeners:
            listener(item)

    def on_block(self, block: Block, connected: bool) -> None:
        """Every accepted block: drop its votes from the pool, watch its votes and its header for
        equivocation."""
        for att in block.ops.attestations:
            self.included.add(att.id)
            self.pool.pop(att.id, None)
            self._watch_vote(att)
        for e in block.ops.proposer_slashings:
            self.evidence.pop(("proposer", _proposer_of(e)), None)
        for e in block.ops.attester_slashings:
            self.evidence.pop(("attester", e.attestation_1.validator_index), None)
        h = block.header
        if h.is_pos:
            key = (h.seal.slot, h.seal.proposer_index)
            first = self._proposals.setdefault(key, h.encode())
            if first != h.encode() and ("proposer", h.seal.proposer_index) not in self.evidence:
                self.evidence[("proposer", h.seal.proposer_index)] = ProposerSlashing(SignedHeader(first),
                                                                                       SignedHeader(h.encode()))
                self._tell(self.evidence[("proposer", h.seal.proposer_index)])
        self._prune(block_slot(h))

    def _prune(self, slot: int) -> None:
        horizon = slot - self.params.slots_per_epoch
        for aid in [a for a, att in self.pool.items() if att.data.slot < horizon]:
            del self.pool[aid]
        if len(self.included) > 100_000:
            self.included.clear()

    def duties(self, epochs: int = 2) -> list[Duty]:
        chain = self.node.chain
        spe = self.params.slots_per_epoch
        now_slot = (chain.current_slot() if chain.head.header.is_pos or self.params.consensus == "pos"
                    else chain.head.height + 1)
        start_epoch = compute_epoch(now_slot, self.params)
        out = []
        for epoch in range(start_epoch, start_epoch + epochs):
            first = compute_start_slot(epoch, self.params)
            view = chain.head_view_at_slot(max(first, block_slot(chain.head.header)))
            cs = pos.get_consensus(view)
            local = self.local_indices(view)
            committees = pos.get_epoch_committees(view, cs, epoch, self.params)
            for s in range(first, first + spe):
                if s < now_slot:
                    continue
                if is_pos_height(self.params, chain.head.height + 1):
                    try:
                        p = pos.get_beacon_proposer(view, cs, s, self.params)
                    except ChaintopError:
                        p = None
                    if p in local:
                        out.append(Duty(p, "propose", s, epoch))
                for i in committees[s % spe]:
                    if i in local:
                        out.append(Duty(i, "attest", s, epoch))
        return out


def _proposer_of(e: ProposerSlashing) -> int:
    from chain.block import Header

    return Header.decode(e.header_1.header).seal.proposer_index


def tx_stake_key(entry) -> bytes:
    from chain.tx import STAKE

    tx = entry.tx
    return tx.payload[:32] if tx.kind == STAKE else b""
