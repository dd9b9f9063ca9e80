"""API keys: ``hld_<prefix>_<secret>``, shown once, stored as a SHA-256 hash, found by prefix.

Why a plain SHA-256 and not a slow password hash or an HMAC: the secret is 40 random base62
characters (about 238 bits), so guessing it from a leaked hash is infeasible even at
billions of SHA-256 per second, and a slow hash would only add latency to every request. An
HMAC keyed with ``settings.secret_key`` would add nothing against that and would tie every key
to one server secret: rotating the secret (or running the CLI with a different one) would
silently invalidate all keys. Hash comparisons use ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.orm import Session

from heldout.accounts.roles import Principal
from heldout.catalog.models import ApiKey, User, iso
from heldout.errors import InvalidInput, NotFound, Unauthorized

KEY_SCHEME: Final = "hld"
PREFIX_LENGTH: Final = 10
SECRET_LENGTH: Final = 40
_ALPHABET = string.ascii_letters + string.digits
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
KEY_PATTERN = re.compile(
    rf"{KEY_SCHEME}_(?P<prefix>[a-z0-9]{{{PREFIX_LENGTH}}})_(?P<secret>[A-Za-z0-9]{{{SECRET_LENGTH}}})"
)
LABEL_MAX = 100
# last_used_at is written at most this often per key, so reads do not all become DB writes.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: ``key`` is the only copy of the secret and is never stored."""

    key: str
    prefix: str
    user: str
    label: str
    created_at: datetime

    @property
    def masked(self) -> str:
        return mask_key(self.key)


def mask_key(key: str | None) -> str:
    """A key safe to print or log: everything but the last 4 characters hidden."""
    if not key:
        return "(none)"
    return "…" + key[-4:] if len(key) > 8 else "…"


def hash_secret(key: str) -> str:
    """The stored form of a key: SHA-256 hex of the whole key string."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> tuple[str, str]:
    """A new random key and its prefix: ``("hld_<prefix>_<secret>", prefix)``."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
    return f"{KEY_SCHEME}_{prefix}_{secret}", prefix


def create_key(session: Session, user: User, label: str = "") -> IssuedKey:
    """Issue a key for ``user``; only its prefix, hash and last 4 characters are stored."""
    if len(label) > LABEL_MAX:
        raise InvalidInput(f"key label is {len(label)} characters; at most {LABEL_MAX}")
    for _attempt in range(5):
        key, prefix = generate_key()
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
            continue
        row = ApiKey(user_id=user.id, prefix=prefix, key_hash=hash_secret(key), label=label,
                     last4=key[-4:])
        session.add(row)
        try:
            with session.begin_nested():
                session.flush()
        except SAIntegrityError:  # a concurrent key took the prefix
            continue
        return IssuedKey(key=key, prefix=prefix, user=user.name, label=label,
                         created_at=row.created_at)
    raise RuntimeError("could not find a free key prefix after 5 attempts")  # pragma: no cover


def authenticate(session: Session, token: str, now: datetime | None = None) -> Principal:
    """The principal a bearer token stands for; Unauthorized (never naming the key) otherwise."""
    match = KEY_PATTERN.fullmatch(token.strip())
    if match is None:
        raise Unauthorized("the API key is malformed: expected hld_<prefix>_<secret>")
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == match.group("prefix")))
    if row is None or not hmac.compare_digest(row.key_hash, hash_secret(token.strip())):
        raise Unauthorized(f"API key {mask_key(token)} is not valid")
    if row.revoked_at is not None:
        raise Unauthorized(f"API key {mask_key(token)} was revoked")
    user = row.user
    if user.disabled:
        raise Unauthorized(f"user {user.name!r} is disabled")
    now = now or datetime.now(UTC)
    last = row.last_used_at
    if last is None or now - last >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return Principal(id=user.id, name=user.name, role=user.role, key_prefix=row.prefix,
                     masked_key=mask_key(token))


def get_key(session: Session, prefix: str) -> ApiKey:
    """The key with ``prefix``, or NotFound."""
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None:
        raise NotFound(f"no API key with prefix {prefix!r}")
    return row


def revoke_key(session: Session, prefix: str) -> ApiKey:
    """Revoke the key with ``prefix`` (idempotent); it stops working immediately."""
    row = get_key(session, prefix)
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    session.flush()
    return row


def list_keys(session: Session, user: User) -> list[ApiKey]:
    """Every key of ``user`` (revoked ones included), oldest first."""
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at, ApiKey.id)
        ).all()
    )


def key_dict(row: ApiKey) -> dict[str, Any]:
    """The JSON view of a stored key: prefix, label, masked last 4 and times; never the hash."""

    return {
        "prefix": row.prefix,
        "user": row.user.name,
        "label": row.label,
        "masked": f"{KEY_SCHEME}_{row.prefix}_…{row.last4}",
        "created_at": iso(row.created_at),
        "last_used_at": iso(row.last_used_at),
        "revoked_at": iso(row.revoked_at),
        "active": row.revoked_at is None,
    }
