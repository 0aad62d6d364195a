"""Typed errors with stable reason codes, shared by every layer."""

from __future__ import annotations


class ChaintopError(Exception):
    """Base of every error a user can cause; `code` is stable and scriptable."""

    code = "error"

    def __init__(self, code: str | None = None, message: str = "") -> None:
        if code is not None:
            self.code = code
        self.message = message or self.code
        super().__init__(f"{self.code}: {self.message}" if message else self.code)


class DecodeError(ChaintopError, ValueError):
    """Bytes that are not a canonical encoding of the expected object."""

    code = "bad-encoding"


class InvalidAddress(DecodeError):
    """An address that fails its checksum, prefix or length checks."""

    code = "bad-address"


class InvalidTx(ChaintopError):
    """A transaction that breaks a consensus or policy rule."""

    code = "invalid-tx"


class InvalidBlock(ChaintopError):
    """A block or header that breaks a consensus rule."""

    code = "invalid-block"


class StoreError(ChaintopError):
    """A data-dir problem: missing, locked, corrupt or of another network."""

    code = "store-error"


class DatabaseCorrupt(StoreError):
    """Records LevelDB cannot read back intact (a checksum mismatch, a truncated table): `db repair`."""

    code = "db-corrupt"


class DiskFull(StoreError):
    """A write the disk had no room for: nothing more is written until there is room again."""

    code = "disk-full"


class NotFound(ChaintopError):
    """A block, transaction, account or key that does not exist."""

    code = "not-found"


class UsageError(ChaintopError):
    """A malformed argument given by a user (an amount, a height, a label)."""

    code = "bad-argument"


class WalletError(ChaintopError):
    """A keystore problem: wrong password, unknown or duplicate label, damaged file."""

    code = "wallet-error"
