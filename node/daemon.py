"""A running node: Node + NodeService + RPC server, its runtime files, and a clean shutdown."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

from chain.errors import StoreError, UsageError
from node import rpc
from node.node import Node
from node.service import (
    NodeService,
    check_block_time,
    check_mining_mode,
    check_traffic_rate,
    check_workers,
    default_mining_mode,
)


class RunningNode:
    """What `chaintop node` and the TUI start: the node, its background threads and its RPC endpoint."""

    def __init__(self, datadir: str | Path, mining: str | None = "manual", traffic: float = 0.0,
                 rpc_port: int = 0, workers: int | None = None, rpc_host: str = "127.0.0.1",
                 block_time: float | None = None, listen: str | None = None, peers: list[str] | None = None,
                 validators: str | None = None, beneficiary: str | None = None) -> None:
        self.datadir = Path(datadir).expanduser()
        # every option is checked before the data dir is opened (and a lock taken, a miner started)
        if mining is not None:  # None: the chain's default (service.default_mining_mode)
            check_mining_mode(mining)
        check_traffic_rate(traffic)
        if workers is not None:
            check_workers(workers)
        if block_time is not None:
            check_block_time(block_time)
        if not 0 <= rpc_port <= 65535:
            raise UsageError("bad-rpc-port",
                             f"--rpc-port {rpc_port}: a port is 1 to 65535 (0 = any free port)")
        # On a network (--listen, --peer) the node keeps the plain wall clock: peers must agree on slots and
        # block times, so the pause-while-closed clock of a node alone (node/clock.py) would split them.
        self.networked = listen is not None or bool(peers)
        share = parse_validator_share(validators) if validators is not None else None
        if self.networked:
            from node.p2p.service import parse_address

            parse_address(listen or "127.0.0.1:0", "--listen", allow_zero=True)
            for p in peers or []:
                parse_address(p)
        self.node = Node.open(self.datadir, clock=time.time if self.networked else None, workers=workers)
        self.network = None
        self.stopped = threading.Event()
        try:
            if share is not None and self.node.validator is not None:
                self.node.validator.share = share
            mining = mining or default_mining_mode(self.node.params)
            self.service = NodeService(self.node, mining, traffic, beneficiary=beneficiary,
                                       on_stop=self.stopped.set, block_time=block_time)
            from node.rpcserver import RpcServer  # here: CLI commands import this module, not aiohttp

            cookie = secrets.token_hex(32)
            try:
                dispatcher = rpc.Dispatcher(self, self.service, self.node)
                self.server = RpcServer(dispatcher, self.node.events, cookie, rpc_host, rpc_port,
                                        node_lock=self.node.lock)
            except OSError as e:
                raise StoreError("rpc-bind-failed", f"cannot listen on {rpc_host}:{rpc_port}: {e.strerror}; "
                                                    "pick another --rpc-port (0 = any free port)") from None
            if self.networked:
                from node.p2p.service import P2PService

                self.network = P2PService(self.node, self.datadir, listen, peers)
            rpc.write_cookie(self.datadir, cookie)  # only once the port is ours: no stale cookie on failure
        except BaseException:
            self.node.close()
            raise
        self._closed = False
        self._stop_requested = False

    def start(self) -> RunningNode:
        self.server.start()
        if self.network is not None:
            self.network.start()
        self.service.start()
        rpc.write_node_info(self.datadir, self.server.url, self.node.params.network)
        return self

    @property
    def url(self) -> str:
        return self.server.url

    def stop_node(self) -> dict:
        """RPC `stop`: answer first, then shut down on the main thread."""
        return self.service.stop_node()

    def request_stop(self) -> None:
        """Ask wait() to return; safe in a signal handler, since it takes no lock (Event.set takes one,
        which the interrupted main thread may be holding inside Event.wait)."""
        self._stop_requested = True

    def wait(self, poll: float = 0.2) -> None:
        while not self._stop_requested and not self.stopped.wait(poll):
            pass

    def close(self) -> None:
        """Stop mining and traffic, stop serving, remove node.json and the cookie, close the store."""
        if self._closed:
            return
        self._closed = True
        self.stopped.set()
        self.service.stop()
        if self.network is not None:
            self.network.stop()  # Goodbye to every peer
        self.server.stop()
        rpc.remove_runtime_files(self.datadir)
        self.node.close()

    def __enter__(self) -> RunningNode:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


def parse_validator_share(text: str) -> tuple[frozenset[int], int] | None:
    """--validators all | none | K/N | K,K2.../N: which of the validators this node holds keys for it runs
    (those whose index is K modulo N), so the nodes of one network never sign for the same validator."""
    text = text.strip().lower()
    if text == "all":
        return None
    if text == "none":
        return frozenset(), 1
    ks, sep, n = text.partition("/")
    parts = ks.split(",")
    if sep and n.isdigit() and all(k.isdigit() for k in parts) and all(int(k) < int(n) for k in parts):
        return frozenset(int(k) for k in parts), int(n)
    raise UsageError("bad-validators", f"--validators {text!r}: give all, none, or K/N with 0 <= K < N "
                                       "(this node runs validators whose index is K modulo N; K,K2/N: "
                                       "several)")


def wait_for_node_info(datadir: Path, timeout: float = 5.0) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = rpc.read_node_info(datadir)
        if info is not None:
            return info
        time.sleep(0.05)
    return None
