"""Every chain operation the TUI performs: run off the UI loop, echoed as its chaintop command, result
notified."""

from __future__ import annotations

import contextlib

from chain.params import format_coins
from tui import equivalents
from tui.screens.prompt import ConfirmScreen, PromptScreen
from tui.screens.staking import StakeScreen, UnstakeScreen
from tui.workers import call_node, describe_error

MIN_WORKERS, MAX_WORKERS = 1, 64  # what NodeService.set_workers accepts


class Actions:
    def __init__(self, app) -> None:
        self.app = app
        self.last_attack: dict | None = None  # the last attack's report (tests read it)

    @property
    def backend(self):
        return self.app.backend

    def _run(self, command: str | None, fn, *args, done=None, failed=None, ok: str | None = None,
             note: str | None = None, **kwargs) -> None:
        if command:
            self.app.show_command(command, note=note)

        def finished(result) -> None:
            if ok:
                self.app.notify(ok.format(result=result), timeout=4)
            if done is not None:
                done(result)

        def broke(error) -> None:
            self.app.notify(describe_error(error), severity="error", title=command or "node")
            if failed is not None:
                failed(error)

        call_node(self.app, fn, *args, done=finished, failed=broke, **kwargs)

    # -- mining ----------------------------------------------------------------------------
    def mine(self, blocks: int = 1) -> None:
        def ok(result: dict) -> None:
            n = len(result.get("blocks", []))
            self.app.notify(f"mined {n} block(s); head is now {result.get('height')}", timeout=3)

        stop = lambda: self.app.is_exiting  # noqa: E731 — a long mine must not hold the process open at quit
        self._run(equivalents.mine(blocks), self.backend.mine, blocks, None, stop, done=ok)

    def set_mining(self, mode: str) -> None:
        self._run(equivalents.mining(mode), self.backend.set_mining, mode,
                  done=lambda state: self.app.model.load_mining(state), ok=f"mining mode: {mode}")

    def set_traffic(self, rate: float) -> None:
        self._run(equivalents.traffic(rate), self.backend.set_traffic, rate,
                  done=lambda state: self.app.model.load_mining(state),
                  ok=f"traffic: {rate:g} transfers a second" if rate else "traffic: off")

    def set_workers(self, workers: int) -> None:
        """Resize the running miner's pool (`chaintop mining --workers N` does the same over RPC)."""
        self._run(equivalents.workers(workers), self.backend.set_workers, workers,
                  done=lambda state: self.app.model.load_mining(state),
                  ok=f"mining workers: {workers} for this run (the next search starts with them)")

    def prompt_workers(self) -> None:
        self.app.push_screen(PromptScreen("mining workers: how many processes search nonces?", "1 to 64",
                                          check=_check_workers),
                             lambda v: v and self.set_workers(int(v)))

    # -- wallet ----------------------------------------------------------------------------
    def send(self, sender: str, to: str, amount: int, fee: int | None, done=None) -> None:
        self._run(equivalents.send(sender, to, amount, fee), self.backend.send, sender, to, amount, fee,
                  done=done, ok=f"sent {format_coins(amount)} coins: txid {{result[txid]:.16}}…")

    def stake(self, sender: str, amount: int, done=None, failed=None) -> None:
        self._run(equivalents.stake(sender, amount), self.backend.stake, sender, amount, done=done,
                  failed=failed, ok=f"staked {format_coins(amount)} coins from {sender}")

    def unstake(self, sender: str, index: int) -> None:
        self._run(equivalents.unstake(sender, index), self.backend.unstake, sender, index,
                  ok=f"validator #{index} asked to exit")

    def fault(self, index: int, mode: str, done=None) -> None:
        words = {"offline": "is offline: it stops proposing and attesting", "online": "is back online",
                 "equivocate": "will equivocate: expect it to be slashed"}
        self._run(equivalents.fault(index, mode), self.backend.validator_fault, index, mode, done=done,
                  ok=f"validator #{index} {words.get(mode, mode)}")

    # -- the network -------------------------------------------------------------------------
    def partition(self, done=None) -> None:
        def ok(r: dict) -> None:
            self.app.notify(f"partitioned: dropped {len(r['dropped'])} peer(s); none is dialled or accepted "
                            "until you heal (p)", timeout=5)

        self._run(equivalents.partition(), self.backend.net_partition, done=_both(ok, done))

    def heal(self, done=None) -> None:
        def ok(r: dict) -> None:
            self.app.notify(f"healed: redialling {len(r['reconnecting'])} peer(s); the node syncs to the "
                            "heavier chain", timeout=5)

        self._run(equivalents.heal(), self.backend.net_heal, done=_both(ok, done))

    def attack(self) -> None:
        """The 51% attack playground from this node (a devnet's): the echo line shows the command and, as it
        runs, each step, then the outcome; the plain-words summary comes as a notification."""
        where = self.backend.devnet_name() if self.backend.is_networked else None
        if where is None:
            self.app.notify("the attack needs this node to be one of a devnet's: `chaintop devnet up --nodes "
                            "3` then `chaintop devnet tui node1`", severity="error", title="attack majority")
            return
        root, name = where
        command = equivalents.attack(name, root)
        self.app.show_command(command, note="running: the payment first")

        def say(text: str) -> None:  # from the worker thread
            with contextlib.suppress(RuntimeError):
                self.app.call_from_thread(self.app.show_command, command, True, f"running: {text}")

        def ok(report: dict) -> None:
            self.last_attack = report
            self.app.show_command(command, quiet=True, note=_attack_note(report))
            self.app.notify(report["summary"], title=report["outcome"], timeout=60)

        def broke(error) -> None:
            self.app.show_command(command, quiet=True, note=f"stopped: {getattr(error, 'code', error)}")

        stop = lambda: self.app.is_exiting  # noqa: E731 — quitting ends the attack (healed on the way out)
        self._run(None, self.backend.attack_majority, 2, say, stop, done=ok, failed=broke)

    # -- dialogs ---------------------------------------------------------------------------
    def stake_dialog(self) -> None:
        def got_balances(wallet: list[dict]) -> None:
            labels = [a["label"] for a in wallet]
            balances = {a["label"]: a["balance"] for a in wallet}
            p = self.backend.params
            screen = StakeScreen(labels, getattr(p, "min_stake", None), p.min_fee, balances)
            self.app.push_screen(screen, lambda v: v and self.stake(v["sender"], v["amount"]))

        call_node(self.app, self.backend.wallet, done=got_balances)

    def unstake_dialog(self, validator: dict) -> None:
        owner = self.backend.label_for(validator.get("address", "")) if validator.get("address") else None
        labels = [k["label"] for k in self.app.keys]
        self.app.push_screen(UnstakeScreen(validator, labels, owner),
                             lambda v: v and self.unstake(v["sender"], v["index"]))

    def equivocate_dialog(self, index: int, done=None) -> None:
        self.app.push_screen(ConfirmScreen(f"Make validator #{index} equivocate?",
                                           "It will sign two conflicting messages for one slot. Any node "
                                           "that sees both includes the evidence and the validator is "
                                           "slashed and ejected."),
                             lambda yes: yes and self.fault(index, "equivocate", done=done))

    def fault_prompt(self, mode: str) -> None:
        self.app.push_screen(PromptScreen(f"validator {mode}: which validator index?", "e.g. 3",
                                          check=_check_index),
                             lambda v: v and self.fault(int(v), mode))

    def unstake_prompt(self) -> None:
        def got(value: str | None) -> None:
            if value:
                self.unstake_dialog({"index": int(value)})

        self.app.push_screen(PromptScreen("unstake: which validator index?", "e.g. 3", check=_check_index),
                             got)

    def prompt_block(self) -> None:
        self.app.push_screen(PromptScreen("block: go to height (or paste a hash)", "e.g. 42",
                                          check=_check_block_id),
                             lambda v: v and self.app.open_block(v))

    def prompt_tx(self) -> None:
        self.app.push_screen(PromptScreen("tx: look up by txid", "64 hex digits", check=_check_hash),
                             lambda v: v and self.app.open_tx(v))

    def prompt_account(self) -> None:
        self.app.push_screen(PromptScreen("account: address or dev label",
                                          f"{self.backend.hrp}1… or dev3", check=self.backend.check_address),
                             lambda v: v and self.app.open_account(v))

    def prompt_mine(self) -> None:
        self.app.push_screen(PromptScreen("mine how many blocks?", "e.g. 10", check=_check_count),
                             lambda v: v and self.mine(int(v)))

    def prompt_traffic(self) -> None:
        def check(v: str) -> str | None:
            try:
                r = float(v)
            except ValueError:
                return "a number of transfers per second, e.g. 50"
            return None if 0 <= r <= 10_000 else "between 0 and 10000"

        self.app.push_screen(PromptScreen("traffic: transfers per second", "0 turns it off", check=check),
                             lambda v: v is not None and v != "" and self.set_traffic(float(v)))

    def prompt_export(self) -> None:
        self._run_prompt("export blocks to file", "/tmp/chain.blocks", lambda v: self._run(
            f"export {v}", self.backend.export_blocks, v, ok="exported {result}"))

    def _run_prompt(self, title: str, placeholder: str, then) -> None:
        self.app.push_screen(PromptScreen(title, placeholder), lambda v: v and then(v))

    # -- reads that answer in a notification -----------------------------------------------------
    def fee_estimate(self) -> None:
        def show(est: dict) -> None:
            fees = est.get("transfer_fee", {})
            self.app.notify(f"fee rates ({est.get('source')}): low {est.get('low')} · "
                            f"medium {est.get('medium')} · high {est.get('high')} units/byte; "
                            f"a transfer: {format_coins(fees.get('medium', 0))} coins (medium)",
                            title="fee estimate", timeout=8)

        self._run("fee-estimate", self.backend.fee_estimate, done=show)

    def verify(self) -> None:
        self._run("db verify", self.backend.verify, ok="database verified: {result}")


def _both(first, then):
    def call(result) -> None:
        first(result)
        if then is not None:
            then(result)

    return call


def _check_index(v: str) -> str | None:
    return None if v.isdigit() else "a validator index is a whole number"


def _check_workers(v: str) -> str | None:
    return None if v.isdigit() and MIN_WORKERS <= int(v) <= MAX_WORKERS else (
        f"a whole number of worker processes, {MIN_WORKERS} to {MAX_WORKERS}")


def _check_count(v: str) -> str | None:
    return None if v.isdigit() and 1 <= int(v) <= 10_000 else "a whole number of blocks, 1 to 10000"


def _check_hash(v: str) -> str | None:
    v = v.lower().removeprefix("0x")
    return None if len(v) == 64 and all(c in "0123456789abcdef" for c in v) else "64 hex digits"


def _check_block_id(v: str) -> str | None:
    return (None if v.isdigit() or _check_hash(v) is None
            else "a height (a whole number) or a 64-hex block hash")


def _attack_note(r: dict) -> str:
    """The outcome in a few words, beside the command on the echo line."""
    if r["outcome"] == "double-spend":
        return (f"DOUBLE SPEND: the honest nodes reverted {r['blocks_reverted']} block(s); the payment had "
                f"{r['confirmations_at_release']} confirmation(s)")
    if r["outcome"] == "refused":
        return (f"REFUSED: finalized checkpoint held at epoch {r['finalized_checkpoint']['epoch']}; "
                f"stake slashed {format_coins(r['slashed']['stake'])}")
    return r["outcome"]
