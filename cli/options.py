"""Every option and argument more than one command takes, declared once as an `Annotated` alias."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# -- global (the app callback) ---------------------------------------------------------------
DatadirOpt = Annotated[str | None, typer.Option(
    "--datadir", envvar="CHAINTOP_DATADIR", metavar="DIR",
    help="Data dir (default: the user data dir, one folder per network).")]
NetworkOpt = Annotated[str, typer.Option("--network", envvar="CHAINTOP_NETWORK", metavar="NAME",
                                         help="Which network's default data dir to use.")]

# -- output ----------------------------------------------------------------------------------
JsonOpt = Annotated[bool, typer.Option(
    "--json", help="Print JSON (snake_case keys, hex bytes, integer amounts).")]
# `watch` streams: the same flag, one object per event
NdjsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line (NDJSON).")]

# -- transactions ----------------------------------------------------------------------------
# who pays: a key this process signs with (`send`), one the node signs with (`stake`, `unstake`: dev keys), or
# only a public key (`tx create` builds an unsigned transaction)
SignerOpt = Annotated[str, typer.Option(
    "--from", metavar="KEY", help="Key label (dev0, or a keystore label) or address to pay from.")]
StakerOpt = Annotated[str, typer.Option(
    "--from", metavar="KEY", help="Dev account label or address that bonds (or bonded) the stake.")]
SenderOpt = Annotated[str, typer.Option("--from", metavar="KEY",
                                        help="Key label, address or public key of the sender.")]
RecipientOpt = Annotated[str, typer.Option("--to", metavar="ADDRESS", help="Recipient address or key label.")]
AmountOpt = Annotated[str, typer.Option("--amount", metavar="COINS",
                                        help="Coins, as a decimal (exact, up to 8 places).")]
FeeOpt = Annotated[str | None, typer.Option("--fee", metavar="COINS",
                                            help="Fee in coins (default: the minimum relay fee).")]
NonceOpt = Annotated[int | None, typer.Option(
    "--nonce", metavar="N",
    help="Nonce (default: the next after the sender's pending ones); an earlier pending nonce with a 10% "
         "higher fee replaces that transaction, a later one waits for the gap.")]
TxidArg = Annotated[str, typer.Argument(metavar="TXID")]

# -- files and keys --------------------------------------------------------------------------
FileArg = Annotated[Path, typer.Argument(metavar="FILE")]
NewLabelArg = Annotated[str, typer.Argument(metavar="LABEL", help="A name for the key, e.g. alice.")]

# -- running a node (`node`, `tui`) and changing a running one (`mining`) ---------------------
MiningModeOpt = Annotated[str, typer.Option(
    "--mining", metavar="MODE",
    help="continuous (always searching, as real miners do), auto (when txs wait), interval (a block per "
         "target spacing), manual or off.")]
TrafficOpt = Annotated[float | None, typer.Option(
    "--traffic", metavar="TX/S", help="Generated transfers per second (0: none).")]
WorkersOpt = Annotated[int | None, typer.Option(
    "--workers", metavar="N", help="Mining worker processes, 1 to 64 (a node starts with one per core).")]
BlockTimeOpt = Annotated[float | None, typer.Option(
    "--block-time", metavar="SECONDS",
    help="Interval mining: a block every SECONDS (as anvil's --block-time; default the chain's target "
         "spacing, which `init --block-time` chooses).")]
# -- the network (node/p2p) ------------------------------------------------------------------
ListenOpt = Annotated[str | None, typer.Option(
    "--listen", metavar="HOST:PORT",
    help="Join a network, listening for peers here (default with --peer: 127.0.0.1, any free port).")]
PeerOpt = Annotated[list[str] | None, typer.Option(
    "--peer", metavar="HOST:PORT",
    help="A peer to dial (repeat for more); kept in the data dir's peers.json.")]
ValidatorsOpt = Annotated[str | None, typer.Option(
    "--validators", metavar="all|none|K/N",
    help="Which validators this node runs: all it holds keys for, none, or K/N (index = K modulo N; "
         "one share per node of a network).")]
RpcPortOpt = Annotated[int, typer.Option("--rpc-port", metavar="PORT",
                                          help="Loopback RPC port (default: any free port).")]
