"""The Python client: ``Client(url, token)`` and ``load_dataset(name, split=…, version=…)``."""

from heldout.client.audio import decode_audio
from heldout.client.download import Download, default_cache_dir
from heldout.client.http import Client, ConnectionFailed, ServerError, load_dataset

__all__ = [
    "Client",
    "ConnectionFailed",
    "Download",
    "ServerError",
    "decode_audio",
    "default_cache_dir",
    "load_dataset",
]
