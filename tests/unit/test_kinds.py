"""Transaction kinds come from one explicit table: importing chain.tx alone knows stake and unstake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chain import kinds
from chain.errors import InvalidTx
from chain.params import get_preset
from chain.tx import KIND_NAMES, STAKE, UNSTAKE, check_tx, get_amount, make_stake, make_unstake

ROOT = Path(__file__).resolve().parents[2]

# Builds a stake the way chain.consensus.staking does (validator pubkey, u64 amount, the validator's consent
# signature), but by hand: the probe must not import the staking module, whose import used to be what
# taught check_tx the kind.
FRESH_PROBE = """
import sys
import chain.tx as txmod
from chain import crypto
from chain.params import get_preset

params = get_preset("pos-devnet")
owner = crypto.dev_keypair(0)
validator = crypto.KeyPair.from_seed(crypto.sha256(b"fresh-process validator"))
consent = crypto.sha256(b"chaintop/stake" + params.chain_id.to_bytes(4, "big") + owner.address)
payload = validator.pubkey + (32 * 10**8).to_bytes(8, "big") + validator.sign(consent)
stake = txmod.make_tx(params.chain_id, txmod.STAKE, 0, 1_000, owner.pubkey, payload).signed(owner)
txmod.check_tx(stake, params.chain_id)
unstake = txmod.make_tx(params.chain_id, txmod.UNSTAKE, 1, 1_000, owner.pubkey,
                        (0).to_bytes(4, "big")).signed(owner)
txmod.check_tx(unstake, params.chain_id)
forged = txmod.make_tx(params.chain_id, txmod.STAKE, 0, 1_000, owner.pubkey,
                       payload[:40] + bytes(64)).signed(owner)
try:
    txmod.check_tx(forged, params.chain_id)
except Exception as e:
    print(e.code)
"""


def test_a_fresh_process_checks_a_stake_right_after_importing_chain_tx():
    p = subprocess.run([sys.executable, "-c", FRESH_PROBE], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["bad-stake-proof"], "the stake's own rule ran: a forged consent is refused"


def test_the_table_names_every_kind_once():
    assert KIND_NAMES == {0: "transfer", 1: "stake", 2: "unstake"}
    assert all(code == kind.code for code, kind in kinds.KINDS.items())


def test_amount_and_checks_come_from_the_table():
    params = get_preset("pos-devnet")
    from chain import crypto
    from chain.consensus.staking import dev_validator_key

    owner = crypto.dev_keypair(1)
    stake = make_stake(params, 0, 1_000, owner, dev_validator_key(50), 40 * 10**8).signed(owner)
    check_tx(stake, params.chain_id)
    assert stake.kind == STAKE and get_amount(stake) == 40 * 10**8
    unstake = make_unstake(params, 1, 1_000, owner.pubkey, 3).signed(owner)
    check_tx(unstake, params.chain_id)
    assert unstake.kind == UNSTAKE and get_amount(unstake) == 0
    with pytest.raises(InvalidTx) as e:
        check_tx(make_unstake(params, 1, 1_000, owner.pubkey, 3), params.chain_id)
    assert e.value.code == "bad-signature"
