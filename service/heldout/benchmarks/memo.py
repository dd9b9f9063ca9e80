"""A small thread-safe LRU cache per owner object (a store, a catalog), so two services in one
process (tests, or several apps) never see each other's entries."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any


class Memo:
    """``get``/``put`` of values under ``(owner, key)``; each owner keeps its newest ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._owners: weakref.WeakKeyDictionary[Any, OrderedDict[Any, Any]] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()

    def get(self, owner: Any, key: Any) -> Any | None:
        with self._lock:
            entries = self._owners.get(owner)
            if entries is None or key not in entries:
                return None
            entries.move_to_end(key)
            return entries[key]

    def put(self, owner: Any, key: Any, value: Any) -> None:
        with self._lock:
            entries = self._owners.setdefault(owner, OrderedDict())
            entries[key] = value
            while len(entries) > self.size:
                entries.popitem(last=False)
