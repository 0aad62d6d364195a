"""A local multi-node network in one command: N `chaintop node` processes on loopback, each with its own data
dir, its own miner and its share of the validators, all peered with each other.

The devnet's root holds devnet.json (network, nodes, their p2p ports and validator shares) and node1..nodeN.
Ports are picked below the kernel's ephemeral range (32768-60999) and kept in devnet.json, so a restarted
node comes back on its port and its peers' DEALERs reconnect by themselves. `up` is idempotent: it starts
the nodes that are not running and adds nodes up to --nodes (a later node syncs from the others; it runs no
validators, since the first nodes split them all).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from chain.errors import StoreError, UsageError
from chain.genesis import load_params
from chain.params import get_preset
from node.client import RpcClient, _pid_alive
from node.node import Node
from node.p2p.service import read_p2p_info
from node.rpc import read_node_info
from node.service import check_mining_mode
from storage.store import ChainStore

DEVNET_FILE = "devnet.json"
PORT_RANGE = (20_000, 32_767)  # below the ephemeral range: a restarted node never finds its port taken
MAX_NODES = 16
START_TIMEOUT = 60.0


def load(root: Path) -> dict | None:
    try:
        return json.loads((root / DEVNET_FILE).read_text())
    except (OSError, ValueError):
        return None


def save(root: Path, data: dict) -> None:
    tmp = root / (DEVNET_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(root / DEVNET_FILE)


def _free_port(taken: set[int]) -> int:
    import random

    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        if port in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise StoreError("no-free-port", f"no free port in {PORT_RANGE[0]}-{PORT_RANGE[1]} on 127.0.0.1")


def _alive(pid: int) -> bool:
    """Whether `pid` still runs; reaps it first if it is our own exited child (a zombie looks alive)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: `devnet up` ran in another process, which is the usual case
    return _pid_alive(pid)


def node_pid(datadir: Path) -> int | None:
    """The pid of the node running on `datadir`, if one is alive."""
    info = read_node_info(datadir)
    if info is None or not _alive(int(info["pid"])):
        return None
    return int(info["pid"])


def _create_chain(datadir: Path, network: str, genesis_time: int | None, slot_time: float | None) -> None:
    """A new chain; every node after the first takes the first one's genesis time (a PoS genesis is stamped
    when it is made) and slot time, so all of them have the same genesis block."""
    overrides = ({"genesis_time": genesis_time} if genesis_time else {}) | (
        {"slot_time": slot_time} if slot_time else {})
    Node.create(datadir, network, **overrides).close()


def _check_slot_time(params, slot_time: float | None, block_time: float | None) -> None:
    """--slot-time is proof of stake's block time, --block-time proof of work's: each refused where the
    chain has no use for it (a node given --block-time on pos-devnet would not start)."""
    if slot_time is not None:
        if params.consensus not in ("pos", "merge"):
            raise UsageError("not-for-network", f"--slot-time sets proof-of-stake slots: pos-devnet and "
                                                f"merge-devnet have them, {params.network} does not")
        if not 0.1 <= slot_time <= 3600:
            raise UsageError("bad-slot-time", "--slot-time must be between 0.1 and 3600 seconds")
    if block_time is not None and params.consensus == "pos":
        raise UsageError("not-for-network", f"--block-time is proof of work's; {params.network} makes a "
                                            "block per slot: choose --slot-time")


def _genesis_time(datadir: Path) -> int:
    client = RpcClient.for_datadir(datadir)
    if client is not None:  # running: its node holds the store's lock
        return int(client.params_view()["genesis_time"])
    store = ChainStore.open(datadir)
    try:
        return load_params(store).genesis_time
    finally:
        store.close()


def up(root: Path, nodes: int, network: str, mining: str | None = None, block_time: float | None = None,
       chaintop: list[str] | None = None, slot_time: float | None = None) -> dict:
    """Create what is missing, start what is not running, wait until every node answers RPC."""
    if not 1 <= nodes <= MAX_NODES:
        raise UsageError("bad-nodes", f"--nodes is 1 to {MAX_NODES}")
    params = get_preset(network)  # unknown-network, bad-mining-mode before anything is made
    _check_slot_time(params, slot_time, block_time)
    # Interval by default, not continuous: continuous miners start at the easiest target, where blocks come
    # every few milliseconds, faster than they propagate, until the retarget catches up (minutes); four
    # such miners each keep their own branch, and with validators the inactivity leak then finalizes each
    # branch on its own (tried: a permanent four-way split). Interval rounds are drawn per node (service.py
    # round_interval), so blocks come one per spacing in all and fork only now and then.
    mining = check_mining_mode(mining or "interval")
    # an interval miner waits N times the chain's spacing on average: one block per spacing in all
    if mining == "interval" and params.consensus != "pos":  # a PoS chain's block time is its slot time
        block_time = block_time or params.target_spacing * nodes
    root.mkdir(parents=True, exist_ok=True)
    data = load(root) or {"network": network, "nodes": [], "mining": mining, "block_time": block_time}
    if data["network"] != network:
        raise UsageError("network-mismatch", f"{root} holds a {data['network']} devnet; `devnet down "
                                             "--purge` it first or pick another --dir")
    if data["nodes"] and slot_time is not None and slot_time != data.get("slot_time"):
        raise UsageError("slot-time-mismatch", f"{root} holds a devnet with "
                                               f"{data.get('slot_time') or params.slot_time} s slots, chosen "
                                               "when it was made; `devnet down --purge` it first or pick "
                                               "another --dir")
    if not data["nodes"]:
        data["slot_time"] = slot_time
    first = len(data["nodes"]) == 0
    taken = {n["port"] for n in data["nodes"]}
    genesis_time = None
    for i in range(len(data["nodes"]), nodes):
        datadir = root / f"node{i + 1}"
        if genesis_time is None and data["nodes"]:
            genesis_time = _genesis_time(Path(data["nodes"][0]["datadir"]))
        if not (datadir / "chain").exists():
            _create_chain(datadir, network, genesis_time, data.get("slot_time"))
        if genesis_time is None:
            genesis_time = _genesis_time(datadir)
        port = _free_port(taken)
        taken.add(port)
        share = f"{i}/{nodes}" if first else "none"
        data["nodes"].append({"name": f"node{i + 1}", "datadir": str(datadir), "port": port,
                              "validators": share})
    save(root, data)
    chaintop = chaintop or [sys.executable, "-m", "cli.main"]
    started = []
    for n in data["nodes"][:max(nodes, len(data["nodes"]))]:
        datadir = Path(n["datadir"])
        if node_pid(datadir) is not None:
            continue
        argv = node_argv(data, n, chaintop, "manual")  # mining starts once it is peered (_start_mining)
        with open(datadir / "node.log", "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # the devnet outlives this command
        started.append((n, proc))
    deadline = time.monotonic() + START_TIMEOUT
    for n, proc in started:
        datadir = Path(n["datadir"])
        while (read_node_info(datadir) or {}).get("pid") != proc.pid or read_p2p_info(datadir) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                lines = (datadir / "node.log").read_text(errors="replace").strip().splitlines()
                raise StoreError("devnet-node-failed", f"{n['name']} did not start (see {datadir}/node.log)"
                                                       + (f": {lines[-1]}" if lines else ""))
            time.sleep(0.1)
    _start_mining(data, [n for n, _ in started], data.get("mining") or mining, deadline)
    return status(root) | {"started": [n["name"] for n, _ in started]}


def _start_mining(data: dict, started: list[dict], mining: str, deadline: float) -> None:
    """Nodes start with mining manual and are switched to `mining` once peered (and, for a node joining a
    running devnet, caught up). A node that mined alone first would run for epochs on its own branch: with
    the others' validators missing there, the inactivity leak ejects them and each branch finalizes alone,
    a split no sync can heal (finalized blocks never revert)."""
    running = [n for n in data["nodes"] if node_pid(Path(n["datadir"])) is not None]
    clients = {n["name"]: RpcClient.for_datadir(Path(n["datadir"])) for n in running}
    names = {n["name"] for n in started}
    old = [clients[n["name"]] for n in running if n["name"] not in names and clients[n["name"]]]
    target = max((c.status()["height"] for c in old), default=0)
    for n in started:
        client = clients[n["name"]]
        want = len(running) - 1
        while len((view := client.peers())["peers"]) < want or client.status()["height"] < target:
            if view.get("conflicts"):
                c = view["conflicts"][0]
                raise StoreError("finality-conflict", f"{n['name']} refused {c['address']}: {c['reason']}. "
                                 "Each side of a partition finalized alone (the inactivity leak ejected the "
                                 "other side's validators); `devnet down --purge` and `devnet up` start anew")
            if time.monotonic() > deadline:
                raise StoreError("devnet-not-peered", f"{n['name']} did not peer with the others and catch "
                                                      f"up in time (see {n['datadir']}/node.log)")
            time.sleep(0.1)
    for n in started:
        clients[n["name"]].set_mining(mining)


def node_argv(data: dict, n: dict, chaintop: list[str], mining: str) -> list[str]:
    """The `node` arguments of one devnet node (its port, peers, validator share, beneficiary)."""
    accounts = get_preset(data["network"]).dev_accounts
    argv = [*chaintop, "--datadir", n["datadir"], "node", "--listen", f"127.0.0.1:{n['port']}",
            "--mining", mining, "--workers", "1", "--validators", n["validators"],
            "--to", f"dev{(int(n['name'][4:]) - 1) % accounts}"]  # each miner its own dev account
    if data.get("block_time"):
        argv += ["--block-time", str(data["block_time"])]
    for o in data["nodes"]:
        if o is not n:
            argv += ["--peer", f"127.0.0.1:{o['port']}"]
    return argv


def tui_argv(root: Path, name: str, timeout: float = 30.0) -> list[str]:
    """Stop devnet node `name` if it runs headless, and give the command that runs it in the TUI instead."""
    data = load(root)
    if data is None:
        raise StoreError("no-devnet", f"no devnet in {root}; start one with `chaintop devnet up --nodes 4`")
    n = next((n for n in data["nodes"] if n["name"] == name), None)
    if n is None:
        names = ", ".join(x["name"] for x in data["nodes"])
        raise UsageError("unknown-node", f"no {name!r} in the devnet; it has {names}")
    pid = node_pid(Path(n["datadir"]))
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    argv = node_argv(data, n, [sys.executable, "-m", "cli.main"], data.get("mining") or "interval")
    argv[argv.index("node")] = "tui"
    i = argv.index("--to")
    return argv[:i] + argv[i + 2:]  # the TUI's miner pays dev0


def status(root: Path) -> dict:
    data = load(root)
    if data is None:
        raise StoreError("no-devnet", f"no devnet in {root}; start one with `chaintop devnet up --nodes 4`")
    out = []
    for n in data["nodes"]:
        datadir = Path(n["datadir"])
        row = {"name": n["name"], "datadir": n["datadir"], "p2p": f"127.0.0.1:{n['port']}",
               "validators": n["validators"], "running": False, "pid": None, "rpc_url": None,
               "height": None, "head": None, "peers": None}
        pid = node_pid(datadir)
        client = RpcClient.for_datadir(datadir) if pid is not None else None
        if client is not None:
            row.update(running=True, pid=pid, rpc_url=client.url)
            try:
                s = client.status()
                row.update(height=s["height"], head=s["head"], peers=len(client.peers()["peers"]))
            except Exception:  # noqa: BLE001 — a node starting or stopping: shown as running, no numbers
                pass
        out.append(row)
    return {"root": str(root), "network": data["network"], "mining": data.get("mining"), "nodes": out}


def down(root: Path, timeout: float = 30.0) -> dict:
    """SIGTERM every node (each stops cleanly: Goodbye to its peers, store closed), SIGKILL any still
    running after `timeout`."""
    data = load(root)
    if data is None:
        raise StoreError("no-devnet", f"no devnet in {root}")
    pids = {}
    for n in data["nodes"]:
        pid = node_pid(Path(n["datadir"]))
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            pids[n["name"]] = pid
    deadline = time.monotonic() + timeout
    killed = []
    for name, pid in pids.items():
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            killed.append(name)
    return {"root": str(root), "stopped": sorted(pids), "killed": killed}


def attack_sides(datadir: Path) -> tuple[str, dict[str, RpcClient], str, str]:
    """For the attack playground (node/attack.py): the devnet node at `datadir` is the attacker. Returns
    its name, an RPC client for every other running node of its devnet (the honest ones), the attacker's
    miner account and the first honest node's (the payment goes there)."""
    data, me = member_of(datadir)
    if data is None or me is None:
        raise UsageError("no-devnet", f"{datadir} is not a node of a devnet (no {DEVNET_FILE} beside it): "
                                      "the attack needs honest nodes to watch; start them with `chaintop "
                                      "devnet up --nodes 3`")
    accounts = get_preset(data["network"]).dev_accounts
    label = lambda n: f"dev{(int(n['name'][4:]) - 1) % accounts}"  # noqa: E731 — node_argv's --to
    honest, victim = {}, None
    for n in data["nodes"]:
        if n is me or node_pid(Path(n["datadir"])) is None:
            continue
        client = RpcClient.for_datadir(Path(n["datadir"]))
        if client is not None:
            honest[n["name"]] = client
            victim = victim or label(n)
    return me["name"], honest, label(me), victim or "dev1"


def member_of(datadir: Path) -> tuple[dict | None, dict | None]:
    """(devnet.json, this node's entry) when `datadir` is a node of a devnet, else (None, None)."""
    datadir = Path(datadir).resolve()
    data = load(datadir.parent)
    me = next((n for n in (data or {}).get("nodes", []) if Path(n["datadir"]).resolve() == datadir), None)
    return (data, me) if me is not None else (None, None)


def node_datadir(root: Path, name: str) -> Path:
    """The data dir of devnet node `name` (unknown-node, no-devnet otherwise)."""
    data = load(root)
    if data is None:
        raise StoreError("no-devnet", f"no devnet in {root}; start one with `chaintop devnet up --nodes 3`")
    n = next((n for n in data["nodes"] if n["name"] == name), None)
    if n is None:
        raise UsageError("unknown-node", f"no {name!r} in the devnet; it has "
                                         f"{', '.join(x['name'] for x in data['nodes'])}")
    return Path(n["datadir"])
