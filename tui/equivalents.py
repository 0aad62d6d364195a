"""The chaintop command equivalent to each TUI action, so a user learns to script what they just did."""

from __future__ import annotations

from chain.params import format_coins


def send(sender: str, to: str, amount: int, fee: int | None) -> str:
    cmd = f"send --from {sender} --to {to} --amount {format_coins(amount)}"
    return cmd + (f" --fee {format_coins(fee)}" if fee is not None else "")


def stake(sender: str, amount: int) -> str:
    return f"stake --from {sender} --amount {format_coins(amount)}"


def unstake(sender: str, index: int) -> str:
    return f"unstake --from {sender} --validator {index}"


def fault(index: int, mode: str) -> str:
    return f"validator {mode} {index}"


def mine(blocks: int) -> str:
    return "mine" if blocks == 1 else f"mine --blocks {blocks}"


def mining(mode: str) -> str:
    return f"mining {mode}"


def traffic(rate: float) -> str:
    return f"mining --traffic {rate:g}"


def workers(n: int) -> str:
    return f"mining --workers {n}"


def block(ident: str | int) -> str:
    return f"block {ident}"


def tx(txid: str) -> str:
    return f"tx {txid}"


def account(address: str) -> str:
    return f"account {address}"


def partition() -> str:
    return "net partition"


def heal() -> str:
    return "net heal"


def attack(name: str, root) -> str:
    return f"attack majority --node {name} --dir {root}"


SCREEN = {
    "dashboard": "status",
    "blocks": "blocks --last 20",
    "mempool": "mempool",
    "mining": "mining",
    "validators": "validators",
    "wallet": "keys list",
    "events": "watch",
    "network": "peers",
}
