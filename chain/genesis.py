"""Genesis: the records it creates, the block every node derives from the params, the first batch, and the
params as a data dir records them.

The genesis block commits to the parameters that define its chain: its header's ops root, which no block
at height 0 needs for attestations or evidence, carries compute_params_commitment(params) (a tagged
SHA-256 of the consensus parameters, relay policy left out). So two networks that differ in any rule (chain
id, merge height, slot time, spacing, ...) have different genesis hashes, and a block of one can never pass
for a block of the other. The header's wire format is unchanged.
"""

from __future__ import annotations

import json

from chain import crypto
from chain.abc import STATUS_VALID, BlockIndex, ChainBatch, ChainDB
from chain.block import ENGINE_POW, HEADER_VERSION, Block, Header, PowSeal, compute_tx_root
from chain.consensus import pow as pow_rules
from chain.consensus import staking
from chain.errors import StoreError
from chain.muhash import MuHash3072
from chain.params import Params
from chain.state import Account, account_key, compute_state_muhash
from chain.supply import compute_genesis_supply


def genesis_records(params: Params) -> dict[bytes, object]:
    """Every state record genesis creates: the prefunded dev accounts and, with validators, the genesis
    validators and the consensus record (staking.genesis_records)."""
    records: dict[bytes, object] = {
        account_key(crypto.dev_keypair(i).address): Account(params.dev_balance, 0)
        for i in range(params.dev_accounts)
    }
    records.update(staking.genesis_records(params))
    return records


PARAMS_COMMITMENT_TAG = b"chaintop/genesis-params/v1\x00"


def compute_params_commitment(params: Params) -> bytes:
    """SHA-256 over a tag and the canonical JSON (sorted keys, no spaces) of Params.consensus_dict()."""
    canonical = json.dumps(params.consensus_dict(), sort_keys=True, separators=(",", ":"))
    return crypto.sha256(PARAMS_COMMITMENT_TAG + canonical.encode())


def make_genesis(params: Params) -> tuple[Block, MuHash3072]:
    """Deterministic: every node derives the same genesis from the same params (and only from them: the
    ops root commits to them, see the module docstring)."""
    acc = compute_state_muhash((k, v.encode()) for k, v in genesis_records(params).items())
    header = Header(
        HEADER_VERSION, 0, crypto.ZERO_HASH, params.genesis_time, compute_tx_root(()),
        compute_params_commitment(params), acc.digest(), crypto.ZERO_ADDRESS, ENGINE_POW,
        PowSeal(params.genesis_bits, 0),
    )
    pow_limit = pow_rules.bits_to_target(params.pow_limit_bits)
    nonce = 0
    while not pow_rules.check_proof_of_work(header.hash, header.bits, pow_limit):
        nonce += 1
        header = header.with_nonce(nonce)
    return Block(header, ()), acc


def compute_genesis_batch(params: Params) -> ChainBatch:
    """What a new data dir holds: the genesis block, its index and state, the head and the params."""
    genesis, acc = make_genesis(params)
    index = BlockIndex(genesis.header, pow_rules.work_from_bits(genesis.header.bits), STATUS_VALID, 0)
    batch = ChainBatch()
    batch.blocks[genesis.hash] = genesis.encode()
    batch.index[genesis.hash] = index
    batch.heights[0] = genesis.hash
    batch.state.update(genesis_records(params))
    batch.supply[genesis.hash] = compute_genesis_supply(batch.state).encode()
    batch.meta.update(
        head=genesis.hash, muhash=acc.to_bytes(), genesis=genesis.hash,
        params=json.dumps(params.to_dict(), sort_keys=True).encode(),
    )
    return batch


def initialize(db: ChainDB, params: Params) -> None:
    """Write genesis into an empty ChainDB, in one batch."""
    db.commit(compute_genesis_batch(params))


def load_params(db: ChainDB) -> Params:
    raw = db.get_meta("params")
    if raw is None:
        raise StoreError("corrupt-datadir", "the data dir records no network parameters")
    return Params.from_dict(json.loads(raw))
