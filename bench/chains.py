"""Builders of benchmark chains: blocks full of signed transfers among the dev accounts."""

from __future__ import annotations

from chain import crypto
from chain.block import Block
from chain.template import build_block
from chain.tx import make_transfer
from node.node import Node


def build_transfer_blocks(node: Node, blocks: int, txs_per_block: int) -> list[bytes]:
    """Mine `blocks` blocks of `txs_per_block` transfers on `node`; returns their encodings in order."""
    keys = [crypto.dev_keypair(i) for i in range(node.params.dev_accounts)]
    nonces = [node.chain.get_account(k.address).nonce for k in keys]
    out = []
    for _ in range(blocks):
        txs = []
        for j in range(txs_per_block):
            i = j % len(keys)
            tx = make_transfer(node.params.chain_id, nonces[i], node.params.min_fee + j, keys[i].pubkey,
                               keys[(i + 1) % len(keys)].address, 1_000 + j)
            txs.append(tx.signed(keys[i]))
            nonces[i] += 1
        template, rejected = build_block(node.chain, keys[0].address, txs)
        assert not rejected, rejected
        header = node._get_miner().mine(template.header)
        block = Block(header, template.txs)
        node.accept_block(block)
        out.append(block.encode())
    return out


def build_empty_chain(node: Node, blocks: int) -> None:
    for _ in range(blocks):
        template, _ = build_block(node.chain, node._dev_keys[0].address, ())
        node.accept_block(Block(node._get_miner().mine(template.header), ()))
