"""What a state transition reports besides the state itself: typed notes the node turns into events.

Notes are not state (they are not committed, hashed or undone); a view collects them while a block is
applied, and AcceptResult.notes hands over those of the blocks that were connected.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Note:
    """Base of every note."""


@dataclass(frozen=True, slots=True)
class Justified(Note):
    """Casper FFG justified the checkpoint (epoch, root)."""

    epoch: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Finalized(Note):
    epoch: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Slashed(Note):
    """Evidence in a block slashed `index`; `whistleblower` is the proposer that included it (None under
    PoW)."""

    index: int
    offence: str  # double-proposal, double-vote, surround-vote
    penalty: int
    whistleblower: int | None


@dataclass(frozen=True, slots=True)
class Leak(Note):
    """An epoch transition ran in the inactivity leak: no finality for `finality_delay` epochs."""

    epoch: int
    finality_delay: int


@dataclass(frozen=True, slots=True)
class Activating(Note):
    """`index` left the activation queue: it is active from `epoch`."""

    index: int
    epoch: int


@dataclass(frozen=True, slots=True)
class Exiting(Note):
    """An unstake put `index` in the exit queue: it exits at `epoch`."""

    index: int
    epoch: int


@dataclass(frozen=True, slots=True)
class Ejected(Note):
    """`index` fell to the ejection balance and was put in the exit queue at `epoch`."""

    index: int
    epoch: int


@dataclass(frozen=True, slots=True)
class Staked(Note):
    """A stake created validator `index` with `amount` base units (it joins the activation queue)."""

    index: int
    amount: int


@dataclass(frozen=True, slots=True)
class Withdrawn(Note):
    """The lock-up of `index` ended: its balance of `amount` base units went back to its account."""

    index: int
    amount: int


NOTE_TYPES: tuple[type[Note], ...] = (Justified, Finalized, Slashed, Leak, Activating, Exiting, Ejected,
                                      Staked, Withdrawn)


# -- the supply ledger's notes (chain/supply.py): where coins come from and go, amounts in base units -----
# Not turned into events (a block pays several): the ledger sums them into its per-block record.

@dataclass(frozen=True, slots=True)
class Minted(Note):
    """New coins: `part` is subsidy (a PoW block's reward), attestation_rewards (an epoch's rewards for
    votes), proposer_rewards (for including votes) or whistleblower (for including slashing evidence)."""

    part: str
    amount: int


@dataclass(frozen=True, slots=True)
class Burned(Note):
    """Coins gone: `part` is penalties (missed votes) or leak (the inactivity leak); slashing burns are
    in Slashed.penalty."""

    part: str
    amount: int


@dataclass(frozen=True, slots=True)
class FeesPaid(Note):
    """A block's fees: moved from senders to the fee recipient, neither minted nor burned."""

    amount: int


LEDGER_NOTE_TYPES: tuple[type[Note], ...] = (Minted, Burned, FeesPaid)
