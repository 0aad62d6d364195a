"""RpcClient: the NodeAPI over JSON-RPC, for CLI commands while a node holds the data dir."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from chain import errors
from chain.errors import ChaintopError, StoreError
from node import rpc
from node.miner import MiningProgress


class RpcClient:
    """Same method names and return shapes as Node; errors come back as the same ChaintopError types."""

    def __init__(self, url: str, cookie: str, timeout: float = 600.0) -> None:
        u = urlparse(url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.url = url
        self.timeout = timeout
        self._auth = "Basic " + base64.b64encode(f"{rpc.COOKIE_USER}:{cookie}".encode()).decode()
        self._id = 0
        self._conn: http.client.HTTPConnection | None = None  # one keep-alive connection for all calls

    @classmethod
    def for_datadir(cls, datadir: str | Path) -> RpcClient | None:
        """A client for the node that holds `datadir`, or None if no live node does."""
        info = rpc.read_node_info(Path(datadir))
        if info is None or not _pid_alive(int(info["pid"])) or not _lock_held(Path(datadir)):
            return None  # no node, or a crashed one's leftovers (its pid may since belong to anything)
        cookie = rpc.read_cookie(Path(datadir))
        if cookie is None:
            return None
        return cls(info["rpc_url"], cookie)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _post(self, body: bytes) -> tuple[int, bytes]:
        """POST on the kept connection. A reused connection the node had closed as idle (it never read our
        request) is opened again once; any other failure is the node's."""
        reused = self._conn is not None
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.request("POST", "/", body, {"Authorization": self._auth,
                                                   "Content-Type": "application/json"})
            resp = self._conn.getresponse()
            data = resp.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
            self.close()
            if not reused:
                raise StoreError("node-unreachable", f"the node at {self.url} did not answer: {e}") from None
            return self._post(body)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise StoreError("node-unreachable", f"the node at {self.url} did not answer: {e}") from None
        if resp.will_close:
            self.close()
        return resp.status, data

    def raw_call(self, method: str, params: Any = None) -> dict:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method,
                           "params": params or []}).encode()
        status, data = self._post(body)
        if status == 401:
            raise StoreError("rpc-unauthorized",
                             "the node refused the cookie; is another node using this data dir?")
        try:
            reply = json.loads(data)
        except ValueError:
            raise StoreError("rpc-bad-reply", f"the node answered HTTP {status} with something that is "
                                              "not JSON") from None
        return _check_reply(status, reply)

    def call(self, method: str, **params: Any) -> Any:
        reply = self.raw_call(method, {k: v for k, v in params.items() if v is not None})
        if "error" in reply:
            raise _to_error(reply["error"])
        return reply["result"]

    # -- NodeAPI ---------------------------------------------------------------------------
    def status(self) -> dict:
        return self.call("status")

    def height(self) -> dict:
        return self.call("height")

    def blocks(self, last: int = 10, start: int | None = None) -> list[dict]:
        return self.call("blocks", last=last, start=start)

    def block(self, ident: str | int, verbose: bool = False) -> dict:
        return self.call("block", id=str(ident), verbose=verbose or None)

    def account_history(self, address: str, limit: int = 100) -> list[dict]:
        return self.call("account_history", address=address, limit=limit)

    def tx(self, txid: str) -> dict:
        return self.call("tx", txid=txid)

    def account(self, address: str) -> dict:
        return self.call("account", address=address)

    def keys(self) -> list[dict]:
        return self.call("keys")

    def mempool_view(self) -> list[dict]:
        return self.call("mempool")

    def proof(self, txid: str) -> dict:
        return self.call("proof", txid=txid)

    def fee_estimate(self) -> dict:
        return self.call("fee_estimate")

    def send(self, sender: str, to: str, amount: int, fee: int | None = None,
             nonce: int | None = None) -> dict:
        return self.call("send", **{"from": sender, "to": to, "amount": amount, "fee": fee, "nonce": nonce})

    def submit_tx(self, tx: str | bytes, replace: bool = True) -> dict:
        return self.call("submit_tx", tx=tx.hex() if isinstance(tx, bytes | bytearray) else str(tx),
                         replace=None if replace else False)

    def submit_txs(self, txs: list[str | bytes]) -> list[dict]:
        return self.call("submit_txs", txs=[t.hex() if isinstance(t, bytes | bytearray) else t for t in txs])

    def drop_tx(self, txid: str) -> dict:
        return self.call("mempool_drop", txid=txid)

    def mine(self, blocks: int = 1, to: str | None = None, progress: Callable[[Any], None] | None = None,
             on_block: Callable[[dict], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> dict:
        """The running node mines; progress and each block stream back as they happen (NDJSON lines) and
        reach the callbacks as in process. Closing the connection (should_stop, Ctrl-C) ends the call."""
        def on_line(line: dict) -> None:
            if "progress" in line and progress is not None:
                progress(progress_from_wire(line["progress"]))
            elif "block" in line and on_block is not None:
                on_block(line["block"])

        return self.stream_call("mine", {"blocks": blocks, "to": to}, on_line, should_stop)

    def stream_call(self, method: str, params: dict, on_line: Callable[[dict], None],
                    should_stop: Callable[[], bool] | None = None) -> Any:
        """A long call (rpc.LONG_CALLS) with its progress streamed: every line before the reply goes to
        on_line. Stopping early hangs up, which the node takes as the end of the call."""
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method,
                           "params": {k: v for k, v in params.items() if v is not None}}).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request("POST", "/", body, {"Authorization": self._auth, "Content-Type": "application/json",
                                             "Accept": rpc.NDJSON})
            resp = conn.getresponse()
            if resp.status == 401:
                raise StoreError("rpc-unauthorized",
                                 "the node refused the cookie; is another node using this data dir?")
            if not (resp.getheader("Content-Type") or "").startswith(rpc.NDJSON):
                reply = json.loads(resp.read())  # an error before the call began (bad params, ...)
            else:
                reply = None
                for raw in resp:
                    line = json.loads(raw)
                    if "jsonrpc" in line:
                        reply = line
                        break
                    on_line(line)
                    if should_stop is not None and should_stop():
                        raise errors.UsageError("cancelled", f"{method} cancelled; the node stops it too")
                if reply is None:
                    raise StoreError("node-unreachable", f"the node at {self.url} went away during {method}")
        except OSError as e:
            raise StoreError("node-unreachable", f"the node at {self.url} did not answer: {e}") from None
        except ValueError:
            raise StoreError("rpc-bad-reply", f"the node's answer to {method} is not JSON") from None
        finally:
            conn.close()
        if "error" in reply:
            raise _to_error(reply["error"])
        return reply["result"]

    def export_blocks(self, file: str, start: int = 1, end: int | None = None) -> dict:
        return self.call("export", **{"file": str(Path(file).resolve()), "from": start, "to": end})

    def import_blocks(self, file: str) -> dict:
        return self.call("import", file=str(Path(file).resolve()))

    def verify(self) -> dict:
        return self.call("db_verify")

    def invalidate_block(self, block: str | int, below_finality: bool = False) -> dict:
        return self.call("invalidate_block", block=block, below_finality=below_finality)

    def reconsider_block(self, block: str | int) -> dict:
        return self.call("reconsider_block", block=block)

    def supply(self, at: int | None = None) -> dict:
        return self.call("supply", at=at)

    def energy(self, watts: float | None = None) -> dict:
        return self.call("energy", watts=watts)

    def params_view(self) -> dict:
        return self.call("params")

    def template_view(self) -> dict:
        return self.call("template")

    def mining_state(self) -> dict:
        return self.call("mining_get")

    def set_mining(self, mode: str) -> dict:
        return self.call("mining_set", mode=mode)

    def set_traffic(self, rate: float) -> dict:
        return self.call("traffic_set", rate=rate)

    def set_workers(self, workers: int) -> dict:
        return self.call("workers_set", workers=workers)

    def stop_node(self) -> dict:
        return self.call("stop")

    def set_block_time(self, seconds: float) -> dict:
        return self.call("block_time_set", seconds=seconds)

    def time_view(self) -> dict:
        return self.call("time_get")

    def increase_time(self, seconds: float) -> dict:
        return self.call("time_increase", seconds=seconds)

    def set_time(self, timestamp: float) -> dict:
        return self.call("time_set", timestamp=timestamp)

    def validators(self) -> list[dict]:
        return self.call("validators")

    def committees(self, epoch: int | None = None) -> dict:
        return self.call("committees", epoch=epoch)

    def finality(self) -> dict:
        return self.call("finality")

    def duties(self) -> list[dict]:
        return self.call("duties")

    def stake(self, sender: str, amount: int, fee: int | None = None,
              validator_key: str | None = None) -> dict:
        return self.call("stake", **{"from": sender, "amount": amount, "fee": fee,
                                     "validator_key": validator_key})

    def unstake(self, sender: str, index: int, fee: int | None = None) -> dict:
        return self.call("unstake", **{"from": sender, "index": index, "fee": fee})

    def validator_fault(self, index: int, mode: str) -> dict:
        return self.call("validator_fault", index=index, mode=mode)

    def peers(self) -> dict:
        return self.call("peers")

    def net_connect(self, peer: str) -> dict:
        return self.call("net_connect", peer=peer)

    def net_disconnect(self, peer: str) -> dict:
        return self.call("net_disconnect", peer=peer)

    def net_partition(self) -> dict:
        return self.call("net_partition")

    def net_heal(self) -> dict:
        return self.call("net_heal")

    def iter_events(self) -> Iterator[dict]:
        """Server-sent events as dicts, until the node goes away."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=None)
        try:
            conn.request("GET", "/events", headers={"Authorization": self._auth})
            resp = conn.getresponse()
            if resp.status != 200:
                raise StoreError("rpc-unauthorized" if resp.status == 401 else "rpc-error",
                                 f"event stream: HTTP {resp.status}")
            for line in resp:
                if line.startswith(b"data: "):
                    yield json.loads(line[6:])
        except OSError:
            return
        finally:
            conn.close()


def progress_from_wire(data: dict) -> MiningProgress:
    return MiningProgress(data["height"], data["hashes"], data["elapsed"], bytes.fromhex(data["best_hash"]),
                          int(data["target"], 16), data["workers"])


def _check_reply(status: int, reply: Any) -> dict:
    """A JSON-RPC reply object, or the house error for what came instead: an HTTP error whose body is not
    one (413 and its {"error": "request body over ..."}: a transaction too large to send at all)."""
    if status == 413:
        raise errors.UsageError("request-too-large", f"the request is over the node's limit of "
                                                     f"{rpc.MAX_BODY // 2**20} MiB for one call")
    if not isinstance(reply, dict) or not isinstance(reply.get("error", {}), dict):
        detail = reply.get("error") if isinstance(reply, dict) else reply
        raise StoreError("rpc-bad-reply", f"the node answered HTTP {status}: {str(detail)[:200]}")
    return reply


def _to_error(err: dict) -> ChaintopError:
    data = err.get("data") or {}
    if err.get("code") == rpc.APP_ERROR and isinstance(data, dict):
        cls = getattr(errors, str(data.get("type")), None)
        if isinstance(cls, type) and issubclass(cls, ChaintopError):
            return cls(data.get("reason"), err.get("message", ""))
    field = data.get("field") if isinstance(data, dict) else None
    return errors.UsageError("rpc-error", f"{err.get('message')} (JSON-RPC {err.get('code')}"
                                          f"{', field ' + field if field else ''})")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock_held(datadir: Path) -> bool:
    """Whether some process holds the data-dir lock right now (a live node does, for as long as it runs)."""
    import fcntl

    from storage.lock import LOCK_NAME

    try:
        fd = os.open(datadir / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
