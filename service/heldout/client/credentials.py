"""Which server and key a client uses: flag or argument > environment > saved sign-in > default.

``heldout login`` saves ``{"url", "token"}`` to ``credentials.json`` in the user's config
directory (``platformdirs``: ``~/.config/heldout`` on Linux; ``HELDOUT_CONFIG_DIR`` moves it),
readable by its owner only (0600). The saved key is used only for the saved URL: pointing a
command at another server never sends it there.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"
FILE_NAME = "credentials.json"


def normalize_url(url: str) -> str:
    """``http://host:8000/`` or ``…/api/v1`` → ``http://host:8000`` (the API prefix is added)."""
    url = url.strip().rstrip("/")
    if not urlsplit(url).scheme:
        url = "http://" + url
    return url.removesuffix(API_PREFIX)


def config_dir() -> Path:
    """Where the saved sign-in lives (``HELDOUT_CONFIG_DIR`` or the platform's config dir)."""
    override = os.environ.get("HELDOUT_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs  # imported here: only a command without --url/--token needs it

    return Path(platformdirs.user_config_dir("heldout", appauthor=False))


def credentials_path() -> Path:
    """The file ``heldout login`` writes."""
    return config_dir() / FILE_NAME


@dataclass(frozen=True)
class Saved:
    """A saved sign-in."""

    url: str
    token: str


def load_saved() -> Saved | None:
    """The saved sign-in, or None (no file, or a file that is not ours)."""
    path = credentials_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Saved(normalize_url(str(data["url"])), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(url: str, token: str) -> Path:
    """Write the sign-in atomically, readable by its owner only; returns the file."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"url": normalize_url(url), "token": token}, handle)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def forget() -> Path | None:
    """Delete the saved sign-in; returns the file if there was one."""
    path = credentials_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    return path


@dataclass(frozen=True)
class Target:
    """The server and key to use, and where each came from (for messages)."""

    url: str
    token: str | None
    url_source: str
    token_source: str | None


def resolve(url: str | None = None, token: str | None = None, *,
            url_flag: str = "--url", token_flag: str = "--token") -> Target:
    """Server URL and key by precedence: flag > HELDOUT_URL/HELDOUT_TOKEN > saved sign-in."""
    env_url, env_token = os.environ.get("HELDOUT_URL"), os.environ.get("HELDOUT_TOKEN")
    saved = load_saved() if not (url or env_url) or not (token or env_token) else None
    if url:
        chosen, url_source = normalize_url(url), url_flag
    elif env_url:
        chosen, url_source = normalize_url(env_url), "HELDOUT_URL"
    elif saved is not None:
        chosen, url_source = saved.url, f"`heldout login` ({credentials_path()})"
    else:
        chosen, url_source = DEFAULT_URL, "the default"
    if token:
        return Target(chosen, token, url_source, token_flag)
    if env_token:
        return Target(chosen, env_token, url_source, "HELDOUT_TOKEN")
    if saved is not None and saved.url == chosen:
        return Target(chosen, saved.token, url_source, "`heldout login`")
    return Target(chosen, None, url_source, None)
