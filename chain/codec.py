"""Canonical binary encoding: big-endian fixed-width integers and length-prefixed bytes."""

from __future__ import annotations

import struct

from chain.errors import DecodeError

U8_MAX = 0xFF
U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


class Writer:
    """Appends fields in wire order; range errors raise ValueError (a caller bug, not input)."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, v: int) -> Writer:
        self._parts.append(bytes((v,)))
        return self

    def u16(self, v: int) -> Writer:
        if not 0 <= v <= U16_MAX:
            raise ValueError(f"{v} does not fit a u16")
        self._parts.append(_U16.pack(v))
        return self

    def u32(self, v: int) -> Writer:
        if not 0 <= v <= U32_MAX:
            raise ValueError(f"{v} does not fit a u32")
        self._parts.append(_U32.pack(v))
        return self

    def u64(self, v: int) -> Writer:
        if not 0 <= v <= U64_MAX:
            raise ValueError(f"{v} does not fit a u64")
        self._parts.append(_U64.pack(v))
        return self

    def fixed(self, b: bytes, size: int) -> Writer:
        if len(b) != size:
            raise ValueError(f"expected {size} bytes, got {len(b)}")
        self._parts.append(bytes(b))
        return self

    def var(self, b: bytes, max_len: int) -> Writer:
        """Bytes behind a u32 length; max_len is the same bound decode enforces."""
        if len(b) > max_len:
            raise ValueError(f"{len(b)} bytes exceeds the bound of {max_len}")
        self._parts.append(_U32.pack(len(b)))
        self._parts.append(bytes(b))
        return self

    def raw(self, b: bytes) -> Writer:
        self._parts.append(bytes(b))
        return self

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    """Consumes fields in wire order; every short read or bound violation is a DecodeError."""

    __slots__ = ("_buf", "_pos")

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise DecodeError("bad-type", f"expected bytes, got {type(data).__name__}")
        self._buf = bytes(data)
        self._pos = 0

    @property
    def pos(self) -> int:
        return self._pos

    def remaining(self) -> int:
        return len(self._buf) - self._pos

    def _take(self, n: int) -> bytes:
        end = self._pos + n
        if n < 0 or end > len(self._buf):
            raise DecodeError("truncated", f"needed {n} bytes at offset {self._pos}, {self.remaining()} left")
        out = self._buf[self._pos : end]
        self._pos = end
        return out

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        return _U16.unpack(self._take(2))[0]

    def u32(self) -> int:
        return _U32.unpack(self._take(4))[0]

    def u64(self) -> int:
        return _U64.unpack(self._take(8))[0]

    def fixed(self, size: int) -> bytes:
        return self._take(size)

    def var(self, max_len: int) -> bytes:
        n = self.u32()
        if n > max_len:
            raise DecodeError("length-out-of-bounds", f"length {n} exceeds the bound of {max_len}")
        return self._take(n)

    def slice_from(self, start: int) -> bytes:
        """The raw bytes consumed since `start` (used to hash without re-encoding)."""
        return self._buf[start : self._pos]

    def finish(self) -> None:
        if self._pos != len(self._buf):
            raise DecodeError("trailing-bytes", f"{self.remaining()} unexpected bytes after the object")


def check_u64(value: int, what: str) -> int:
    """Bound check for amounts: integers in [0, 2^64)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer")
    if value < 0 or value > U64_MAX:
        raise ValueError(f"{what} {value} is outside [0, 2^64)")
    return value


def encode_u64_fields(version: int, values) -> bytes:
    """A version byte, then each value as a u64: the ledgers' per-block records (one struct pack: every block
    writes two of them)."""
    values = tuple(values)
    if not 0 <= version <= 0xFF:
        raise ValueError(f"{version} does not fit a u8")
    try:
        return _u64_fields(len(values)).pack(version, *values)
    except struct.error:
        bad = next(v for v in values if not isinstance(v, int) or not 0 <= v <= U64_MAX)
        raise ValueError(f"{bad} does not fit a u64") from None


def decode_u64_fields(data: bytes, version: int, count: int, what: str) -> list[int]:
    if len(data) < 1:
        raise DecodeError("truncated", f"{what} record is empty")
    if (found := data[0]) != version:
        raise DecodeError("bad-version", f"{what} record version {found}")
    layout = _u64_fields(count)
    if len(data) < layout.size:
        raise DecodeError("truncated", f"{what} record has {len(data)} bytes, needs {layout.size}")
    if len(data) > layout.size:
        extra = len(data) - layout.size
        raise DecodeError("trailing-bytes", f"{what} record has {extra} bytes after its end")
    return list(layout.unpack(data)[1:])


_LAYOUTS: dict[int, struct.Struct] = {}


def _u64_fields(count: int) -> struct.Struct:
    layout = _LAYOUTS.get(count)
    if layout is None:
        layout = _LAYOUTS[count] = struct.Struct(f">B{count}Q")
    return layout
