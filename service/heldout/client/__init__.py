"""The Python client: ``Client(url, token)`` and ``load_dataset(name, split=…, version=…)``.

Names are imported on first use, so ``import heldout.client.http`` (what the CLI's client
commands need) does not pull in pyarrow and the download machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from heldout.client.audio import decode_audio
    from heldout.client.download import Download, default_cache_dir
    from heldout.client.http import Client, ConnectionFailed, ServerError
    from heldout.client.loader import load_dataset

_WHERE = {
    "Client": "heldout.client.http",
    "ConnectionFailed": "heldout.client.http",
    "ServerError": "heldout.client.http",
    "Download": "heldout.client.download",
    "default_cache_dir": "heldout.client.download",
    "decode_audio": "heldout.client.audio",
    "load_dataset": "heldout.client.loader",
}


def __getattr__(name: str) -> Any:
    """Import ``heldout.client.NAME`` from its module on first use."""
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'heldout.client' has no attribute {name!r}")


__all__ = [
    "Client",
    "ConnectionFailed",
    "Download",
    "ServerError",
    "decode_audio",
    "default_cache_dir",
    "load_dataset",
]
