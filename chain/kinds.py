"""The table of transaction kinds: for each, its name, stateless check, state change and amount.

One explicit table that chain.tx (check_tx, get_amount) and chain.transition (apply_tx) look kinds up in;
nothing registers itself on import, so a process that imports chain.tx knows every kind at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chain.consensus import staking
from chain.params import Params
from chain.state import Account, StateView
from chain.transfer import apply_transfer, check_transfer, get_transfer_amount

if TYPE_CHECKING:  # chain.tx imports this table
    from chain.tx import Tx

TRANSFER = 0
STAKE = 1
UNSTAKE = 2


@dataclass(frozen=True, slots=True)
class TxKind:
    """What a kind of transaction is: `check` its stateless payload rules, `apply` its state change (after the
    common nonce rules), `amount` what it takes from the sender besides the fee."""

    code: int
    name: str
    check: Callable[[Tx], None]
    apply: Callable[[StateView, Tx, Account, Params], None]
    amount: Callable[[Tx], int]
    needs_validators: bool = False  # only on networks that run validators (every mode but plain PoW)


KINDS: dict[int, TxKind] = {
    TRANSFER: TxKind(TRANSFER, "transfer", check_transfer, apply_transfer, get_transfer_amount),
    STAKE: TxKind(STAKE, "stake", staking.check_stake, staking.apply_stake, staking.get_stake_amount,
                  needs_validators=True),
    UNSTAKE: TxKind(UNSTAKE, "unstake", staking.check_unstake, staking.apply_unstake, lambda tx: 0,
                    needs_validators=True),
}
KIND_NAMES = {code: kind.name for code, kind in KINDS.items()}
