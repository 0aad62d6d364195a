"""submit_txs: many transactions in one call, signatures checked on every core, one answer each in order; in
process and over RPC (a real node process)."""

from __future__ import annotations

from chain import crypto
from chain.params import COIN, REGTEST
from chain.tx import make_transfer
from node.client import RpcClient
from node.node import Node
from tests.functional.test_rpc import NodeProc, init_regtest


def transfers(count: int, senders: int = 10, first_nonce: int = 0) -> list[bytes]:
    keys = [crypto.dev_keypair(i) for i in range(senders)]
    out = []
    for j in range(count):
        key, to = keys[j % senders], keys[(j + 1) % senders]
        nonce = first_nonce + j // senders
        tx = make_transfer(REGTEST.chain_id, nonce, REGTEST.min_fee, key.pubkey, to.address, COIN)
        out.append(tx.signed(key).encode())
    return out


def forged(raw: bytes) -> bytes:
    """The same transaction with one bit of its signature (the last 64 bytes) flipped."""
    return raw[:-1] + bytes([raw[-1] ^ 1])


def test_a_batch_gets_one_answer_per_transaction_in_order(tmp_path):
    good = transfers(130)  # past sigcheck.PARALLEL_FROM: the batch is verified on the thread pool
    extra = transfers(1, first_nonce=13)[0]
    batch = [good[0], *good[1:60], forged(extra), "zz", good[0], *good[60:]]
    with Node.create(tmp_path / "c", "regtest") as node:
        answers = node.submit_txs([raw.hex() if isinstance(raw, bytes) else raw for raw in batch])
        assert len(answers) == len(batch)
        refused = {i: a["error"]["reason"] for i, a in enumerate(answers) if "error" in a}
        assert refused == {60: "bad-signature", 61: "bad-hex", 62: "txn-already-in-mempool"}
        assert answers[61]["txid"] is None and answers[60]["txid"] is not None
        accepted = [a["txid"] for a in answers if "error" not in a]
        assert len(accepted) == len(good) and all(a["ready"] for a in answers if "error" not in a)
        assert sorted(accepted) == sorted(t["txid"] for t in node.mempool_view())
        # the same refusals one at a time, so a batch never admits what submit_tx would not
        assert node.submit_txs([forged(extra)])[0]["error"]["reason"] == "bad-signature"
        assert node.submit_txs([]) == []


def test_submit_txs_over_rpc(tmp_path):
    d = tmp_path / "chain"
    init_regtest(d)
    n = NodeProc(d)
    try:
        client = RpcClient.for_datadir(d)
        good = transfers(20)
        answers = client.submit_txs([*good, forged(good[0])])
        assert [a.get("error", {}).get("reason") for a in answers] == [None] * 20 + ["txn-already-in-mempool"]
        assert len(n.call("mempool")) == 20
        err = n.error("submit_txs", {"txs": "ab"})
        assert err["code"] == -32602 and err["data"]["field"] == "txs"
        mined = client.mine(1)
        assert len(n.call("block", [mined["blocks"][0]])["txs"]) == 20
        client.close()
    finally:
        n.kill()
