"""BoundedCache: a dict-like memo with a size cap, the one cache helper the core uses."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

MISSING = object()  # a default for get() when None is a value worth caching


class BoundedCache:
    """get/put/pop/clear over a dict that empties itself when a put would pass `max_size`.

    Clearing (rather than LRU bookkeeping on every hit) keeps the hot path a plain dict lookup; the working
    set refills in one pass. Values may be None: `get` takes a default for telling "absent" from "None".
    """

    __slots__ = ("max_size", "_data")

    def __init__(self, max_size: int) -> None:
        if max_size < 1:
            raise ValueError("a bounded cache holds at least one entry")
        self.max_size = max_size
        self._data: dict[Hashable, Any] = {}

    def get(self, key: Hashable, default: Any = None) -> Any:
        return self._data.get(key, default)

    def put(self, key: Hashable, value: Any) -> None:
        data = self._data
        if len(data) >= self.max_size and key not in data:
            data.clear()
        data[key] = value

    def pop(self, key: Hashable, default: Any = None) -> Any:
        return self._data.pop(key, default)

    def clear(self) -> None:
        self._data.clear()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

